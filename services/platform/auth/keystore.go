package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often a KeyStore looks for a changed key
// file: a revoked key stops working at most this long after the file
// changes.
const DefaultReloadInterval = 5 * time.Second

// KeyStore holds the keys of a key file and reloads them when the file
// changes. It polls the file's content rather than watching for events:
// a Kubernetes Secret volume replaces its files through a symlink swap,
// which file-event watchers easily miss, and a poll of a small file every
// few seconds costs nothing.
type KeyStore struct {
	path string
	log  *slog.Logger

	keys atomic.Pointer[map[string]Key]
	mu   sync.Mutex // serialises reloads
	last []byte
}

// NewKeyStore loads the key file at path. A missing file holds no keys
// (until it appears); a file that does not parse is an error.
func NewKeyStore(path string, log *slog.Logger) (*KeyStore, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &KeyStore{path: path, log: log}
	if _, err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the key file again and reports whether it changed. On error
// the keys loaded before stay in force.
func (s *KeyStore) Reload() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path)
	if err != nil && !os.IsNotExist(err) {
		return false, fmt.Errorf("auth: key file: %w", err)
	}
	if s.keys.Load() != nil && bytes.Equal(b, s.last) {
		return false, nil
	}
	var f KeyFile
	if len(b) > 0 {
		if f, err = parseKeyFile(b); err != nil {
			return false, err
		}
	}
	m := make(map[string]Key, len(f.Keys))
	for _, k := range f.Keys {
		m[k.ID] = k
	}
	s.keys.Store(&m)
	s.last = b
	return true, nil
}

// Run reloads the key file every interval until ctx is done, logging
// failures (the previous keys stay in force).
func (s *KeyStore) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReloadInterval
	}
	every(ctx, interval, func() {
		changed, err := s.Reload()
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "key file reload failed; keeping the keys loaded before", "path", s.path, "error", err)
		case changed:
			s.log.InfoContext(ctx, "key file reloaded", "path", s.path, "keys", len(*s.keys.Load()))
		}
	})
}

// every calls f every interval until ctx is done.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// Authenticate returns the principal of API key token at now.
func (s *KeyStore) Authenticate(token string, now time.Time) (Principal, error) {
	id, secret, err := ParseKey(token)
	if err != nil {
		return Principal{}, err
	}
	k, ok := (*s.keys.Load())[id]
	if !ok || !k.matches(secret) {
		return Principal{}, ErrUnknownKey
	}
	if err := k.check(now); err != nil {
		return Principal{}, err
	}
	return Principal{Name: k.Name, ID: k.ID, Kind: KindKey, Roles: k.Roles}, nil
}
