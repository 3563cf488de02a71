package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig names the certificate files of a process. With CertFile and
// KeyFile set its servers speak TLS; with ClientCAFile too they require a
// client certificate signed by that CA (mutual TLS). CAFile is the CA its
// clients trust when they call other services over TLS, presenting
// CertFile as their client certificate.
type TLSConfig struct {
	CertFile, KeyFile string
	ClientCAFile      string
	CAFile            string
	// ServerName overrides the name a client checks in a server's
	// certificate (default the host it dials).
	ServerName string
}

// Enabled reports whether servers speak TLS.
func (c TLSConfig) Enabled() bool { return c.CertFile != "" }

// Problems lists what is wrong with c.
func (c TLSConfig) Problems() []error {
	var errs []error
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert file and key file go together: set both or neither"))
	}
	if c.ClientCAFile != "" && c.CertFile == "" {
		errs = append(errs, errors.New("tls: a client CA file needs the server's cert and key files"))
	}
	return errs
}

// Server returns the servers' TLS configuration, nil when TLS is off.
func (c TLSConfig) Server() (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pool, err := loadPool(c.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Client returns the TLS configuration of calls to other services, nil
// when no CA file is set (plaintext).
func (c TLSConfig) Client() (*tls.Config, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	pool, err := loadPool(c.CAFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{RootCAs: pool, ServerName: c.ServerName, MinVersion: tls.VersionTLS12}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", path)
	}
	return pool, nil
}
