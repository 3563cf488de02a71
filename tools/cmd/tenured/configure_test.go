package main

import (
	"flag"
	"io"
	"strings"
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
	if p := cfg.place(stack.Component{Name: "profile"}); p.DSN != "postgres://postgres@127.0.0.1:5432/tenure_profile" {
		t.Errorf("with TENURE_PROFILE_DSN set: tenured reports DSN %q, want the service's own", p.DSN)
	}
	if own.DSN != "postgres://postgres@127.0.0.1:5432/tenure_profile" {
		t.Errorf("with TENURE_PROFILE_DSN set: DSN = %q, want it kept", own.DSN)
	}
}

// TestServiceAddrs checks where tenured puts each service's gRPC server:
// its fixed default port, TENURE_<SERVICE>_LISTEN over that, and the
// -<service>-addr flag over both.
func TestServiceAddrs(t *testing.T) {
	parse := func(t *testing.T, args ...string) (config, error) {
		t.Helper()
		var cfg config
		fs := flag.NewFlagSet("tenured", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.registerFlags(fs)
		return cfg, fs.Parse(args)
	}
	addr := func(cfg config, name string) string {
		return cfg.place(stack.Component{Name: name}).ListenAddr
	}

	cfg, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := addr(cfg, "profile"); got != "127.0.0.1:9101" {
		t.Errorf("profile default = %q, want 127.0.0.1:9101", got)
	}
	if got := addr(cfg, "segmentation"); got != "127.0.0.1:9102" {
		t.Errorf("segmentation default = %q, want 127.0.0.1:9102", got)
	}
	seen := map[string]string{}
	for _, svc := range services() {
		if other, ok := seen[svc.grpcAddr]; ok {
			t.Errorf("%s and %s share the default address %s", other, svc.component.Name, svc.grpcAddr)
		}
		seen[svc.grpcAddr] = svc.component.Name
	}

	t.Setenv("TENURE_PROFILE_LISTEN", "127.0.0.1:9201")
	if cfg, err = parse(t); err != nil {
		t.Fatal(err)
	}
	if got := addr(cfg, "profile"); got != "127.0.0.1:9201" {
		t.Errorf("with TENURE_PROFILE_LISTEN: profile = %q, want 127.0.0.1:9201", got)
	}
	if cfg, err = parse(t, "-profile-addr", "0.0.0.0:9301"); err != nil {
		t.Fatal(err)
	}
	if got := addr(cfg, "profile"); got != "0.0.0.0:9301" {
		t.Errorf("with -profile-addr: profile = %q, want 0.0.0.0:9301", got)
	}
	if _, err := parse(t, "-segmentation-addr", "9102"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("-segmentation-addr 9102: err = %v, want one asking for host:port", err)
	}
}
