package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Errors of the authorization header.
var (
	ErrNoCredentials   = errors.New("auth: no credentials")
	ErrMalformedBearer = errors.New(`auth: authorization must read "Bearer <API key or token>"`)
	ErrAmbiguous       = errors.New("auth: more than one authorization value")
)

// maxCredentialBytes bounds an authorization value: no key or reasonable
// token is longer.
const maxCredentialBytes = 16 << 10

// Config is the authentication configuration a process shares between its
// gRPC server, its clients and, for the gateway, its HTTP edge.
type Config struct {
	// Disabled turns authentication and authorization off: every call is
	// admitted as an anonymous admin. For tests and local experiments only;
	// production configuration keeps it false.
	Disabled bool
	// KeysFile is the API key file; empty accepts no API keys.
	KeysFile string
	// ReloadInterval is how often the key file is checked for changes;
	// default DefaultReloadInterval.
	ReloadInterval time.Duration
	// JWT configures token verification; without a JWKS file or URL no
	// tokens are accepted.
	JWT JWTConfig
	// ServiceKey is this service's own API key, sent on its calls to other
	// services (never the caller's credentials).
	ServiceKey string
}

// JWTEnabled reports whether tokens are accepted.
func (c Config) JWTEnabled() bool { return c.JWT.JWKSFile != "" || c.JWT.JWKSURL != "" }

// Problems lists what is wrong with c.
func (c Config) Problems() []error {
	var errs []error
	if c.Disabled {
		return nil
	}
	if c.JWTEnabled() {
		if c.JWT.JWKSFile != "" && c.JWT.JWKSURL != "" {
			errs = append(errs, errors.New("auth: set the JWKS file or the JWKS URL, not both"))
		}
		if c.JWT.Issuer == "" || c.JWT.Audience == "" {
			errs = append(errs, errors.New("auth: a JWKS needs the token issuer and audience"))
		}
	}
	if c.ServiceKey != "" {
		if _, _, err := ParseKey(c.ServiceKey); err != nil {
			errs = append(errs, fmt.Errorf("auth: service key: %w", err))
		}
	}
	return errs
}

// Authenticator turns credentials into principals.
type Authenticator struct {
	disabled bool
	keys     *KeyStore
	jwt      *Verifier
	cfg      Config
}

// NewAuthenticator loads the key file and the JWKS of cfg. Run keeps them
// fresh.
func NewAuthenticator(ctx context.Context, cfg Config, log *slog.Logger) (*Authenticator, error) {
	a := &Authenticator{disabled: cfg.Disabled, cfg: cfg}
	if cfg.Disabled {
		return a, nil
	}
	if cfg.KeysFile != "" {
		ks, err := NewKeyStore(cfg.KeysFile, log)
		if err != nil {
			return nil, err
		}
		a.keys = ks
	}
	if cfg.JWTEnabled() {
		v, err := NewVerifier(ctx, cfg.JWT, nil, log)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	}
	return a, nil
}

// Disabled reports whether every call is admitted.
func (a *Authenticator) Disabled() bool { return a.disabled }

// Run reloads the key file and refreshes the JWKS until ctx is done.
func (a *Authenticator) Run(ctx context.Context) {
	done := make(chan struct{})
	if a.jwt != nil {
		go func() {
			defer close(done)
			a.jwt.Run(ctx)
		}()
	} else {
		close(done)
	}
	if a.keys != nil {
		a.keys.Run(ctx, a.cfg.ReloadInterval)
	}
	<-done
}

// Anonymous is the principal of every call when authentication is
// disabled.
var Anonymous = Principal{Name: "anonymous", Kind: "none", Roles: []Role{Admin}}

// Authenticate returns the principal of an authorization header value
// ("Bearer <API key or JWT>").
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (Principal, error) {
	if a.disabled {
		return Anonymous, nil
	}
	token, err := ParseBearer(authorization)
	if err != nil {
		return Principal{}, err
	}
	if strings.HasPrefix(token, KeyPrefix) {
		if a.keys == nil {
			return Principal{}, ErrUnknownKey
		}
		return a.keys.Authenticate(token, time.Now())
	}
	if a.jwt == nil {
		return Principal{}, ErrNoJWKS
	}
	return a.jwt.Authenticate(ctx, token)
}

// ParseBearer returns the credential of an authorization header value.
func ParseBearer(v string) (string, error) {
	if v == "" {
		return "", ErrNoCredentials
	}
	if len(v) > maxCredentialBytes {
		return "", ErrMalformedBearer
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", ErrMalformedBearer
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", ErrMalformedBearer
	}
	return token, nil
}
