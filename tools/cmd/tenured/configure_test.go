package main

import (
	"flag"
	"io"
	"maps"
	"strings"
	"testing"

	feedbackapp "github.com/tenurehq/tenure/services/feedback/app"
	loyaltyapp "github.com/tenurehq/tenure/services/loyalty/app"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
	"github.com/tenurehq/tenure/services/platform/stack"
	profileapp "github.com/tenurehq/tenure/services/profile/app"
	promotionapp "github.com/tenurehq/tenure/services/promotion/app"
	segmentationapp "github.com/tenurehq/tenure/services/segmentation/app"
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

// serviceConfigs are the shared configurations of every service tenured
// runs, from their defaults and the environment, by name.
func serviceConfigs() map[string]*bootstrap.Config {
	var p profileapp.Config
	p.RegisterFlags(flag.NewFlagSet("profile", flag.ContinueOnError))
	var s segmentationapp.Config
	s.RegisterFlags(flag.NewFlagSet("segmentation", flag.ContinueOnError))
	var l loyaltyapp.Config
	l.RegisterFlags(flag.NewFlagSet("loyalty", flag.ContinueOnError))
	var f feedbackapp.Config
	f.RegisterFlags(flag.NewFlagSet("feedback", flag.ContinueOnError))
	var pr promotionapp.Config
	pr.RegisterFlags(flag.NewFlagSet("promotion", flag.ContinueOnError))
	return map[string]*bootstrap.Config{"profile": &p.Config, "segmentation": &s.Config, "loyalty": &l.Config, "feedback": &f.Config,
		"promotion": &pr.Config}
}

// TestServiceAddrs checks where tenured puts each service's gRPC server:
// at the service's own fixed port, TENURE_<SERVICE>_LISTEN over that, and
// tenured's -<service>-addr flag over both.
func TestServiceAddrs(t *testing.T) {
	parse := func(t *testing.T, args ...string) (config, error) {
		t.Helper()
		var cfg config
		fs := flag.NewFlagSet("tenured", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg.registerFlags(fs)
		return cfg, fs.Parse(args)
	}
	// listen is the address each service ends up with: its own Config,
	// then what tenured hands it, as Component's Start applies them.
	listen := func(cfg config) map[string]string {
		addrs := map[string]string{}
		for name, c := range serviceConfigs() {
			stack.Env{ListenAddr: cfg.place(stack.Component{Name: name}).ListenAddr}.Configure(c)
			addrs[name] = c.ListenAddr
		}
		return addrs
	}
	configs := serviceConfigs()
	for _, svc := range services() {
		if configs[svc.Name] == nil {
			t.Errorf("service %s: add its Config to this test, with its fixed port", svc.Name)
		}
	}

	cfg, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listen(cfg), map[string]string{
		"profile": "127.0.0.1:9101", "segmentation": "127.0.0.1:9102", "loyalty": "127.0.0.1:9103", "promotion": "127.0.0.1:9104",
		"feedback": "127.0.0.1:9105",
	}; !maps.Equal(got, want) {
		t.Errorf("defaults = %v, want %v", got, want)
	}

	t.Setenv("TENURE_PROFILE_LISTEN", "127.0.0.1:9201")
	if got := listen(cfg)["profile"]; got != "127.0.0.1:9201" {
		t.Errorf("with TENURE_PROFILE_LISTEN: profile = %q, want 127.0.0.1:9201", got)
	}
	if cfg, err = parse(t, "-profile-addr", "0.0.0.0:9301"); err != nil {
		t.Fatal(err)
	}
	if got := listen(cfg); got["profile"] != "0.0.0.0:9301" || got["segmentation"] != "127.0.0.1:9102" {
		t.Errorf("with -profile-addr: %v, want profile at 0.0.0.0:9301, segmentation at 127.0.0.1:9102", got)
	}
	if _, err := parse(t, "-segmentation-addr", "9102"); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("-segmentation-addr 9102: err = %v, want one asking for host:port", err)
	}
}
