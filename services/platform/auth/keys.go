package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// An API key reads "tnr_<id>_<secret>": id is 12 hex digits that name the
// key in the key file and in logs, secret is 32 random bytes (256 bits) in
// unpadded base64url. Only the SHA-256 of the secret is stored. A fast hash
// is enough, and the right one, for a secret of 256 random bits: nobody can
// guess it, so a slow password hash (bcrypt, argon2) would only add its
// cost to every call without making a stolen key file any easier to defend.
const (
	KeyPrefix   = "tnr_"
	keyIDBytes  = 6
	secretBytes = 32
	hashPrefix  = "sha256:"
)

// Errors of keys and key files.
var (
	ErrMalformedKey = errors.New("auth: malformed api key")
	ErrUnknownKey   = errors.New("auth: unknown api key")
	ErrRevokedKey   = errors.New("auth: api key revoked")
	ErrExpiredKey   = errors.New("auth: api key expired")
	ErrKeyNotFound  = errors.New("auth: no such key in the key file")
)

// Key is one entry of the key file: never the key itself, only its hash.
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Hash      string     `json:"hash"`
	Roles     []Role     `json:"roles"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// KeyFile is the JSON document a key file holds.
type KeyFile struct {
	Keys []Key `json:"keys"`
}

// NewKey returns a fresh API key (shown once, never stored) and its entry
// for the key file. A zero expires means the key does not expire.
func NewKey(name string, roles []Role, now, expires time.Time) (string, Key, error) {
	if strings.TrimSpace(name) == "" {
		return "", Key{}, errors.New("auth: a key needs a name")
	}
	if len(roles) == 0 {
		return "", Key{}, errors.New("auth: a key needs at least one role")
	}
	for _, r := range roles {
		if _, ok := ParseRole(string(r)); !ok {
			return "", Key{}, fmt.Errorf("auth: unknown role %q: want one of %v", r, Roles)
		}
	}
	buf := make([]byte, keyIDBytes+secretBytes)
	if _, err := rand.Read(buf); err != nil {
		return "", Key{}, fmt.Errorf("auth: random: %w", err)
	}
	id := hex.EncodeToString(buf[:keyIDBytes])
	secret := base64.RawURLEncoding.EncodeToString(buf[keyIDBytes:])
	k := Key{ID: id, Name: name, Hash: hashSecret(secret), Roles: slices.Clone(roles), CreatedAt: now.UTC()}
	if !expires.IsZero() {
		e := expires.UTC()
		k.ExpiresAt = &e
	}
	return KeyPrefix + id + "_" + secret, k, nil
}

// ParseKey splits an API key into its id and secret.
func ParseKey(s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return "", "", ErrMalformedKey
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 2*keyIDBytes || len(secret) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return "", "", ErrMalformedKey
	}
	// Every call with a key parses it: the checks decode into arrays on
	// the stack rather than allocate.
	var idBytes [keyIDBytes]byte
	if _, err := hex.Decode(idBytes[:], []byte(id)); err != nil || strings.ToLower(id) != id {
		return "", "", ErrMalformedKey
	}
	var encoded [64]byte
	var secretBuf [secretBytes]byte
	if _, err := strictBase64URL.Decode(secretBuf[:], append(encoded[:0], secret...)); err != nil {
		return "", "", ErrMalformedKey
	}
	return id, secret, nil
}

// strictBase64URL is how a secret is encoded; a key whose secret has any
// other spelling of its bytes is malformed.
var strictBase64URL = base64.RawURLEncoding.Strict()

// appendHash appends the key file's form of secret's hash to dst.
func appendHash(dst []byte, secret string) []byte {
	var text [64]byte // a secret's 43 characters, copied on the stack
	sum := sha256.Sum256(append(text[:0], secret...))
	return hex.AppendEncode(append(dst, hashPrefix...), sum[:])
}

func hashSecret(secret string) string { return string(appendHash(nil, secret)) }

// matches reports, in constant time, whether secret is this key's. It
// hashes into an array on the stack, as it runs on every call.
func (k Key) matches(secret string) bool {
	var buf [len(hashPrefix) + 2*sha256.Size]byte
	return subtle.ConstantTimeCompare(appendHash(buf[:0], secret), []byte(k.Hash)) == 1
}

// check reports why k may not be used at now, if it may not.
func (k Key) check(now time.Time) error {
	if k.RevokedAt != nil && !now.Before(*k.RevokedAt) {
		return ErrRevokedKey
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return ErrExpiredKey
	}
	return nil
}

// Active reports whether k can be used at now.
func (k Key) Active(now time.Time) bool { return k.check(now) == nil }

// ReadKeyFile reads and checks a key file. A missing file is an empty one.
func ReadKeyFile(path string) (KeyFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return KeyFile{}, nil
	}
	if err != nil {
		return KeyFile{}, fmt.Errorf("auth: key file: %w", err)
	}
	return parseKeyFile(b)
}

func parseKeyFile(b []byte) (KeyFile, error) {
	var f KeyFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return KeyFile{}, fmt.Errorf("auth: key file: %w", err)
	}
	seen := make(map[string]bool, len(f.Keys))
	for i, k := range f.Keys {
		switch {
		case len(k.ID) != 2*keyIDBytes:
			return KeyFile{}, fmt.Errorf("auth: key file: keys[%d]: id %q is not %d hex digits", i, k.ID, 2*keyIDBytes)
		case seen[k.ID]:
			return KeyFile{}, fmt.Errorf("auth: key file: keys[%d]: id %q appears twice", i, k.ID)
		case !strings.HasPrefix(k.Hash, hashPrefix) || len(k.Hash) != len(hashPrefix)+2*sha256.Size:
			return KeyFile{}, fmt.Errorf("auth: key file: keys[%d]: hash must be %q and 64 hex digits", i, hashPrefix)
		}
		for _, r := range k.Roles {
			if _, ok := ParseRole(string(r)); !ok {
				return KeyFile{}, fmt.Errorf("auth: key file: keys[%d]: unknown role %q", i, r)
			}
		}
		seen[k.ID] = true
	}
	return f, nil
}

// WriteKeyFile replaces the key file atomically (a temporary file renamed
// over it), readable by its owner only.
func WriteKeyFile(path string, f KeyFile) error {
	if f.Keys == nil {
		f.Keys = []Key{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("auth: key file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("auth: key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("auth: key file: %w", err)
	}
	return nil
}

// CreateKey adds a new key to the key file at path and returns it: the only
// time the key is shown.
func CreateKey(path, name string, roles []Role, now, expires time.Time) (string, Key, error) {
	f, err := ReadKeyFile(path)
	if err != nil {
		return "", Key{}, err
	}
	token, k, err := NewKey(name, roles, now, expires)
	if err != nil {
		return "", Key{}, err
	}
	f.Keys = append(f.Keys, k)
	if err := WriteKeyFile(path, f); err != nil {
		return "", Key{}, err
	}
	return token, k, nil
}

// RevokeKey marks the key with id idOrName (or, when no id matches, every
// active key of that name) revoked at now and returns the keys it revoked.
func RevokeKey(path, idOrName string, now time.Time) ([]Key, error) {
	f, err := ReadKeyFile(path)
	if err != nil {
		return nil, err
	}
	match := func(k Key) bool { return k.ID == idOrName }
	if !slices.ContainsFunc(f.Keys, match) {
		match = func(k Key) bool { return k.Name == idOrName && k.RevokedAt == nil }
	}
	var revoked []Key
	at := now.UTC()
	for i := range f.Keys {
		if match(f.Keys[i]) {
			f.Keys[i].RevokedAt = &at
			revoked = append(revoked, f.Keys[i])
		}
	}
	if len(revoked) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrKeyNotFound, idOrName)
	}
	return revoked, WriteKeyFile(path, f)
}
