package bootstrap

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Env reads a service's TENURE_<SERVICE>_* environment variables, which
// back its flags' defaults. A value that does not parse is remembered and
// reported by Err, so that Validate can list it with the other problems.
type Env struct {
	prefix string
	errs   []error
}

// NewEnv returns an Env for service, reading variables named
// TENURE_<SERVICE>_<NAME>.
func NewEnv(service string) *Env {
	return &Env{prefix: "TENURE_" + strings.ToUpper(service) + "_"}
}

// Name is the full variable name for name, for flag help texts.
func (e *Env) Name(name string) string { return e.prefix + name }

// Help appends "(env NAME)" to a flag's usage text.
func (e *Env) Help(usage, name string) string { return usage + " (env " + e.Name(name) + ")" }

// String returns the variable's value, or def when it is unset.
func (e *Env) String(name, def string) string {
	if v, ok := os.LookupEnv(e.Name(name)); ok {
		return v
	}
	return def
}

// List returns the variable as a comma-separated list, or def's items.
func (e *Env) List(name, def string) []string { return splitList(e.String(name, def)) }

// Duration returns the variable as a Go duration, or def.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	return parseEnv(e, name, def, time.ParseDuration)
}

// Int64 returns the variable as a decimal integer, or def.
func (e *Env) Int64(name string, def int64) int64 {
	return parseEnv(e, name, def, func(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) })
}

// Err reports every variable that did not parse.
func (e *Env) Err() error { return errors.Join(e.errs...) }

func parseEnv[T any](e *Env, name string, def T, parse func(string) (T, error)) T {
	v, ok := os.LookupEnv(e.Name(name))
	if !ok || v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: %w", e.Name(name), v, err))
		return def
	}
	return x
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Bool returns the variable as a boolean (true, false, 1, 0, yes, no), or
// def.
func (e *Env) Bool(name string, def bool) bool { return parseEnv(e, name, def, parseBool) }
