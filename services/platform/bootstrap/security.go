package bootstrap

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/tenurehq/tenure/services/platform/auth"
)

// DefaultKeysFile is where every process looks for the API key file unless
// told otherwise: beside the SQLite databases in the data directory, where
// tenured creates its local admin key and tenurectl looks for it.
const DefaultKeysFile = "data/keys.json"

// registerSecurityFlags registers the authentication and TLS flags every
// service and the gateway share.
func (c *Config) registerSecurityFlags(fs *flag.FlagSet, env *Env, def Defaults) {
	a, t := &c.Auth, &c.TLS
	fs.BoolFunc("auth-disabled", env.Help("admit every call without credentials (local experiments only; default false: authentication on)", "AUTH_DISABLED"), func(s string) error {
		v, err := parseBool(s)
		a.Disabled = v
		return err
	})
	a.Disabled = env.Bool("AUTH_DISABLED", false)
	fs.StringVar(&a.KeysFile, "auth-keys-file", env.String("AUTH_KEYS_FILE", DefaultKeysFile), env.Help("API key file (hashes, names, roles), reloaded when it changes; see tenurectl keys", "AUTH_KEYS_FILE"))
	fs.DurationVar(&a.ReloadInterval, "auth-reload-interval", env.Duration("AUTH_RELOAD_INTERVAL", auth.DefaultReloadInterval), env.Help("how often the key file is checked for changes: a revoked key stops working within this", "AUTH_RELOAD_INTERVAL"))
	fs.StringVar(&a.JWT.JWKSFile, "auth-jwks-file", env.String("AUTH_JWKS_FILE", ""), env.Help("JWKS file of the identity provider whose tokens are accepted", "AUTH_JWKS_FILE"))
	fs.StringVar(&a.JWT.JWKSURL, "auth-jwks-url", env.String("AUTH_JWKS_URL", ""), env.Help("JWKS URL of the identity provider whose tokens are accepted (cached, refreshed)", "AUTH_JWKS_URL"))
	fs.StringVar(&a.JWT.Issuer, "auth-issuer", env.String("AUTH_ISSUER", ""), env.Help("required iss of tokens", "AUTH_ISSUER"))
	fs.StringVar(&a.JWT.Audience, "auth-audience", env.String("AUTH_AUDIENCE", ""), env.Help("required aud of tokens", "AUTH_AUDIENCE"))
	fs.StringVar(&a.JWT.RolesClaim, "auth-roles-claim", env.String("AUTH_ROLES_CLAIM", auth.DefaultRolesClaim), env.Help("token claim holding the roles; dots reach into objects", "AUTH_ROLES_CLAIM"))
	fs.DurationVar(&a.JWT.Leeway, "auth-leeway", env.Duration("AUTH_LEEWAY", auth.DefaultLeeway), env.Help("clock skew allowed on a token's exp, nbf and iat", "AUTH_LEEWAY"))
	fs.DurationVar(&a.JWT.Refresh, "auth-jwks-refresh", env.Duration("AUTH_JWKS_REFRESH", auth.DefaultJWKSRefresh), env.Help("how often the JWKS is fetched again", "AUTH_JWKS_REFRESH"))
	fs.StringVar(&c.ServiceKeyFile, "service-key-file", env.String("SERVICE_KEY_FILE", ""), env.Help("file holding this process's own API key, sent on its calls to other services (the gateway's only on the calls it makes itself, such as unsubscribe links)", "SERVICE_KEY_FILE"))
	if !def.Edge {
		fs.StringVar(&t.ClientCAFile, "tls-client-ca-file", env.String("TLS_CLIENT_CA_FILE", ""), env.Help("CA (PEM) of client certificates: with it the gRPC server requires one (mutual TLS)", "TLS_CLIENT_CA_FILE"))
	}
	fs.StringVar(&t.CertFile, "tls-cert-file", env.String("TLS_CERT_FILE", ""), env.Help("certificate (PEM) of this process's server, and its client certificate under mutual TLS; empty: plaintext", "TLS_CERT_FILE"))
	fs.StringVar(&t.KeyFile, "tls-key-file", env.String("TLS_KEY_FILE", ""), env.Help("key (PEM) of the TLS certificate", "TLS_KEY_FILE"))
	fs.StringVar(&t.CAFile, "tls-ca-file", env.String("TLS_CA_FILE", ""), env.Help("CA (PEM) that signed the other services' certificates: calls to them use TLS", "TLS_CA_FILE"))
	fs.StringVar(&t.ServerName, "tls-server-name", env.String("TLS_SERVER_NAME", ""), env.Help("name checked in the other services' certificates; default the dialled host", "TLS_SERVER_NAME"))
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "1", "t", "true", "yes":
		return true, nil
	case "0", "f", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// securityProblems lists what is wrong with the authentication and TLS
// settings.
func (c Config) securityProblems() []error {
	errs := append(c.Auth.Problems(), c.TLS.Problems()...)
	if !c.Auth.Disabled && c.Auth.KeysFile == "" && !c.Auth.JWTEnabled() && c.TLS.ClientCAFile == "" {
		errs = append(errs, errors.New("auth: no caller could be admitted: set an API key file or a JWKS (or, for a local experiment only, disable auth)"))
	}
	return errs
}

// startAuth loads the service key, the key file and the JWKS, and keeps
// them fresh until the runtime closes.
func (rt *Runtime) startAuth(ctx context.Context) error {
	cfg := rt.Config.Auth
	if rt.Config.ServiceKeyFile != "" && cfg.ServiceKey == "" {
		b, err := os.ReadFile(rt.Config.ServiceKeyFile)
		if err != nil {
			return fmt.Errorf("service key: %w", err)
		}
		cfg.ServiceKey = strings.TrimSpace(string(b))
		if _, _, err := auth.ParseKey(cfg.ServiceKey); err != nil {
			return fmt.Errorf("service key file %s: %w", rt.Config.ServiceKeyFile, err)
		}
	}
	rt.serviceKey = cfg.ServiceKey
	a, err := auth.NewAuthenticator(ctx, cfg, rt.Logger)
	if err != nil {
		return err
	}
	rt.Auth = a
	if cfg.Disabled {
		rt.Logger.WarnContext(ctx, "authentication is disabled: every call is admitted")
		return nil
	}
	if _, err := os.Stat(cfg.KeysFile); cfg.KeysFile != "" && err != nil {
		rt.Logger.WarnContext(ctx, "no API key file: no key is accepted until it appears", "path", cfg.KeysFile, "error", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(runCtx)
	}()
	rt.OnClose(func() {
		stop()
		<-done
	})
	return nil
}

// Guard is the guard of the runtime's gRPC server: the authenticator and
// the platform's one policy, auditing to the runtime's logger.
func (rt *Runtime) Guard() *auth.Guard {
	return &auth.Guard{Auth: rt.Auth, Policy: auth.DefaultPolicy(), Log: rt.Logger.With("component", "auth"), Persist: rt.PersistAudit}
}

// serverCredentials are the gRPC server's TLS options, none for plaintext.
func (rt *Runtime) serverCredentials() ([]grpc.ServerOption, error) {
	tlsCfg, err := rt.Config.TLS.Server()
	if err != nil || tlsCfg == nil {
		return nil, err
	}
	return []grpc.ServerOption{grpc.Creds(credentials.NewTLS(tlsCfg))}, nil
}

// clientCredentials are the options of calls to other services: TLS when a
// CA is configured, and, with ownKey, the service's own key when it has one.
func (rt *Runtime) clientCredentials(ownKey bool) ([]grpc.DialOption, error) {
	tlsCfg, err := rt.Config.TLS.Client()
	if err != nil {
		return nil, err
	}
	var opts []grpc.DialOption
	if tlsCfg != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	}
	if ownKey && rt.serviceKey != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.KeyCredentials{Key: rt.serviceKey, Secure: tlsCfg != nil}))
	}
	return opts, nil
}
