package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

func TestRedactDSN(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://tenure:s3cret@db:5432/profile?sslmode=disable", "postgres://tenure:xxxxx@db:5432/profile?sslmode=disable"},
		{"postgresql://tenure:s3cret@db/profile", "postgresql://tenure:xxxxx@db/profile"},
		{"postgres://postgres@127.0.0.1:5432/tenure_profile?sslmode=disable", "postgres://postgres@127.0.0.1:5432/tenure_profile?sslmode=disable"},
		{"postgres://db/profile?password=s3cret&sslmode=require", "postgres://db/profile?password=xxxxx&sslmode=require"},
		{"host=db user=tenure password=s3cret dbname=profile", "host=db user=tenure password=xxxxx dbname=profile"},
		{"host=db password = 'se cr\\'et' dbname=profile", "host=db password = xxxxx dbname=profile"},
		{"host=db PASSWORD=s3cret", "host=db PASSWORD=xxxxx"},
		{"sqlite:data/profile.db", "sqlite:data/profile.db"},
		{"data/profile.db", "data/profile.db"},
		{"postgres://tenure:s3cret@db:bad-port/profile", "postgres://(unparsable, not shown)"},
	} {
		got := sqlstore.RedactDSN(tc.dsn)
		if got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
		if strings.Contains(got, "s3cret") || strings.Contains(got, "se cr") {
			t.Errorf("RedactDSN(%q) = %q still shows the password", tc.dsn, got)
		}
	}
}
