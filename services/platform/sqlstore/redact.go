package sqlstore

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted stands in for a password in RedactDSN's output, as in net/url.
const redacted = "xxxxx"

// keywordPassword matches the password of a key=value DSN ("host=db
// password=secret" or "password='se cret'"), quoted or not.
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)

// RedactDSN returns dsn fit for logs and messages: the password of a URL
// ("postgres://user:secret@host/db", or its "password" query parameter) and
// of a key=value DSN ("password=secret") is replaced by "xxxxx"; anything
// else, a SQLite path for one, is returned as it is. A URL that does not
// parse is reduced to its scheme, since where its password is cannot be
// told.
func RedactDSN(dsn string) string {
	if scheme := urlScheme(dsn); scheme != "" && strings.HasPrefix(dsn[len(scheme):], "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return scheme + "://(unparsable, not shown)"
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", redacted)
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return keywordPassword.ReplaceAllString(dsn, "${1}"+redacted)
}
