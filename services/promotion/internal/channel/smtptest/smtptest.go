// Package smtptest runs an in-process SMTP relay for tests: STARTTLS with
// a self-signed certificate, PLAIN authentication and rejected recipients
// when asked, and every accepted message kept for the test to read.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the relay accepted: its envelope, the user it
// authenticated as, and the message as sent.
type Received struct {
	From string
	To   []string
	User string
	Data []byte
}

// Options say what the relay offers and refuses.
type Options struct {
	TLS        bool           // offer STARTTLS
	User, Pass string         // require PLAIN authentication when User is set
	Reject     map[string]int // recipients refused, with the SMTP code
}

// Relay is a running in-process SMTP server.
type Relay struct {
	Addr   string      // 127.0.0.1
	Port   int         // its port
	Client *tls.Config // trusts the relay's certificate (with TLS)

	user, pass string
	reject     map[string]int

	mu   sync.Mutex
	msgs []Received
}

// Messages returns the messages accepted so far.
func (r *Relay) Messages() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.msgs...)
}

// Start starts a relay, stopped when the test ends.
func Start(t testing.TB, o Options) *Relay {
	t.Helper()
	withTLS, user := o.TLS, o.User
	r := &Relay{user: o.User, pass: o.Pass, reject: o.Reject}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		base := &session{r: r}
		if user != "" {
			return &authSession{session: base}, nil
		}
		return base, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if withTLS {
		cert, pool := selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		r.Client = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	r.Addr = "127.0.0.1"
	r.Port = l.Addr().(*net.TCPAddr).Port
	return r
}

type session struct {
	r      *Relay
	from   string
	to     []string
	authed string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.user != "" && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if code := s.r.reject[to]; code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "rejected " + to}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(rd io.Reader) error {
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.msgs = append(s.r.msgs, Received{From: s.from, To: s.to, User: s.authed, Data: b})
	return nil
}

type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.r.user || password != s.r.pass {
			return errors.New("invalid credentials")
		}
		s.authed = username
		return nil
	}), nil
}

// selfSigned returns a certificate for localhost and a pool trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
