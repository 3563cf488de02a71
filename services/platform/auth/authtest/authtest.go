// Package authtest makes credentials for tests: key files with keys of any
// role, a token issuer with its JWKS file, and a certificate authority with
// server and client certificates for TLS.
package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// KeyFile is a key file in a test's temporary directory.
type KeyFile struct {
	Path string
}

// NewKeyFile returns an empty key file.
func NewKeyFile(t testing.TB) *KeyFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := auth.WriteKeyFile(path, auth.KeyFile{}); err != nil {
		t.Fatal(err)
	}
	return &KeyFile{Path: path}
}

// Create adds a key named name with roles and returns it.
func (f *KeyFile) Create(t testing.TB, name string, roles ...auth.Role) string {
	t.Helper()
	key, _, err := auth.CreateKey(f.Path, name, roles, time.Now(), time.Time{})
	if err != nil {
		t.Fatalf("create key %s: %v", name, err)
	}
	return key
}

// Issuer signs tokens with an RSA key published in a JWKS file.
type Issuer struct {
	Name, Audience string
	JWKSFile       string
	KID            string
	key            *rsa.PrivateKey
}

// NewIssuer returns an issuer whose JWKS file holds its public key.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	iss := &Issuer{Name: "https://id.example.test/", Audience: "tenure", KID: "test-1", key: key,
		JWKSFile: filepath.Join(t.TempDir(), "jwks.json")}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: iss.KID, Algorithm: "RS256", Use: "sig"}}}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(iss.JWKSFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return iss
}

// Config is the JWT configuration that trusts the issuer.
func (i *Issuer) Config() auth.JWTConfig {
	return auth.JWTConfig{JWKSFile: i.JWKSFile, Issuer: i.Name, Audience: i.Audience}
}

// Claims returns valid claims for subject with roles, valid for an hour.
func (i *Issuer) Claims(subject string, roles ...auth.Role) jwt.MapClaims {
	now := time.Now()
	names := make([]string, len(roles))
	for j, r := range roles {
		names[j] = string(r)
	}
	return jwt.MapClaims{"iss": i.Name, "aud": i.Audience, "sub": subject, "roles": names,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Sign signs claims with the issuer's key (RS256, its key id).
func (i *Issuer) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = i.KID
	s, err := tok.SignedString(i.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Token is a valid token for subject with roles.
func (i *Issuer) Token(t testing.TB, subject string, roles ...auth.Role) string {
	return i.Sign(t, i.Claims(subject, roles...))
}

// CA is a certificate authority with files for a server and a client
// certificate signed by it.
type CA struct {
	CertFile                      string
	ServerCertFile, ServerKeyFile string
	ClientCertFile, ClientKeyFile string
}

// NewCA writes a CA, a server certificate for 127.0.0.1 and localhost, and
// a client certificate with common name client.
func NewCA(t testing.TB, client string) *CA {
	t.Helper()
	dir := t.TempDir()
	caKey, caCert := newCert(t, nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "tenure test CA"}, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true})
	ca := &CA{CertFile: writePEM(t, dir, "ca.pem", "CERTIFICATE", caCert.Raw)}
	sk, sc := newCert(t, caKey, caCert, &x509.Certificate{Subject: pkix.Name{CommonName: "server"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	ca.ServerCertFile = writePEM(t, dir, "server.pem", "CERTIFICATE", sc.Raw)
	ca.ServerKeyFile = writeKey(t, dir, "server-key.pem", sk)
	ck, cc := newCert(t, caKey, caCert, &x509.Certificate{Subject: pkix.Name{CommonName: client},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	ca.ClientCertFile = writePEM(t, dir, "client.pem", "CERTIFICATE", cc.Raw)
	ca.ClientKeyFile = writeKey(t, dir, "client-key.pem", ck)
	return ca
}

func newCert(t testing.TB, parentKey *ecdsa.PrivateKey, parent, tmpl *x509.Certificate) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func writeKey(t testing.TB, dir, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
