package main

import (
	"testing"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

func TestConfigureKeepsOwnDSN(t *testing.T) {
	e := env{listen: "127.0.0.1:0", sqliteDSN: "sqlite:data/profile.db", logLevel: "warn"}

	var plain bootstrap.Config
	e.configure(&plain, "profile")
	if plain.DSN != e.sqliteDSN || plain.ListenAddr != e.listen || plain.LogLevel != "warn" {
		t.Errorf("without TENURE_PROFILE_DSN: got %+v, want tenured's SQLite file, address and level", plain)
	}

	t.Setenv("TENURE_PROFILE_DSN", "postgres://postgres@127.0.0.1:5432/tenure_profile")
	own := bootstrap.Config{DSN: "postgres://postgres@127.0.0.1:5432/tenure_profile"}
	e.configure(&own, "profile")
	if own.DSN != "postgres://postgres@127.0.0.1:5432/tenure_profile" {
		t.Errorf("with TENURE_PROFILE_DSN set: DSN = %q, want it kept", own.DSN)
	}
}
