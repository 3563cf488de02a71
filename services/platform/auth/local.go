package auth

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files of a local installation (tenured's data directory): the key
// file, the admin key tenured creates on its first start, and the key its
// services call each other with.
const (
	LocalKeysFile       = "keys.json"
	LocalAdminKeyFile   = "admin.key"
	LocalServiceKeyFile = "service.key"
)

// DefaultClientKeyFile is where command-line tools look for a key when
// neither TENURE_API_KEY nor TENURE_API_KEY_FILE is set: the admin key of a
// tenured started in the current directory.
const DefaultClientKeyFile = "data/" + LocalAdminKeyFile

// EnsureLocalKeys makes dir hold a key file with an admin key (its value in
// admin.key) and a service key (in service.key), creating whichever is
// missing or no longer valid, and returns the configuration that uses them
// and whether the admin key is new.
func EnsureLocalKeys(dir string, now time.Time) (Config, bool, error) {
	keysFile := filepath.Join(dir, LocalKeysFile)
	ks, err := NewKeyStore(keysFile, nil)
	if err != nil {
		return Config{}, false, err
	}
	ensure := func(file, name string, role Role) (string, bool, error) {
		path := filepath.Join(dir, file)
		if b, err := os.ReadFile(path); err == nil {
			key := strings.TrimSpace(string(b))
			if p, err := ks.Authenticate(key, now); err == nil && p.Has(role) {
				return key, false, nil
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", false, fmt.Errorf("auth: %w", err)
		}
		key, _, err := CreateKey(keysFile, name, []Role{role}, now, time.Time{})
		if err != nil {
			return "", false, err
		}
		if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
			return "", false, fmt.Errorf("auth: %w", err)
		}
		if _, err := ks.Reload(); err != nil {
			return "", false, err
		}
		return key, true, nil
	}
	_, created, err := ensure(LocalAdminKeyFile, "local-admin", Admin)
	if err != nil {
		return Config{}, false, err
	}
	serviceKey, _, err := ensure(LocalServiceKeyFile, "local-services", Service)
	if err != nil {
		return Config{}, false, err
	}
	return Config{KeysFile: keysFile, ServiceKey: serviceKey}, created, nil
}

// ClientKey is the API key a command-line tool sends: TENURE_API_KEY, else
// the contents of the file TENURE_API_KEY_FILE, else of
// DefaultClientKeyFile when it exists; "" when there is none.
func ClientKey() (string, error) {
	if k := strings.TrimSpace(os.Getenv("TENURE_API_KEY")); k != "" {
		return k, nil
	}
	path, explicit := os.LookupEnv("TENURE_API_KEY_FILE")
	if !explicit {
		path = DefaultClientKeyFile
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("api key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Transport sends Key as a bearer credential on every request that has no
// Authorization header of its own.
type Transport struct {
	Key  string
	Base http.RoundTripper // nil: http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Key == "" || r.Header.Get("Authorization") != "" {
		return base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.Key)
	return base.RoundTrip(r)
}

// ClientHTTP returns an HTTP client with timeout that sends ClientKey.
func ClientHTTP(timeout time.Duration) (*http.Client, error) {
	key, err := ClientKey()
	if err != nil {
		return nil, err
	}
	return &http.Client{Timeout: timeout, Transport: Transport{Key: key}}, nil
}
