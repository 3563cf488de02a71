package main

import (
	"testing"

	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/stack"
)

func TestConfigureKeepsOwnDSN(t *testing.T) {
	cfg := config{dataDir: "data", serviceAddrs: map[string]string{"profile": "127.0.0.1:0"}, logLevel: "warn"}
	configure := func(c *bootstrap.Config) {
		p := cfg.place(stack.Component{Name: "profile"})
		stack.Env{ListenAddr: p.ListenAddr, DSN: p.DSN, LogLevel: cfg.logLevel}.Configure(c)
	}

	var plain bootstrap.Config
	configure(&plain)
	if plain.DSN != "sqlite:data/profile.db" || plain.ListenAddr != "127.0.0.1:0" || plain.LogLevel != "warn" {
		t.Errorf("without TENURE_PROFILE_DSN: got %+v, want tenured's SQLite file, address and level", plain)
	}

	t.Setenv("TENURE_PROFILE_DSN", "postgres://postgres@127.0.0.1:5432/tenure_profile")
	own := bootstrap.Config{DSN: "postgres://postgres@127.0.0.1:5432/tenure_profile"}
	configure(&own)
	if own.DSN != "postgres://postgres@127.0.0.1:5432/tenure_profile" {
		t.Errorf("with TENURE_PROFILE_DSN set: DSN = %q, want it kept", own.DSN)
	}
}
