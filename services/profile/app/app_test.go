package app_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/etcdtest"
	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
	"github.com/tenurehq/tenure/services/profile/app"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c app.Config)
		wantErr string
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c app.Config) {
				if c.ListenAddr != "127.0.0.1:9101" || c.DSN != "sqlite:data/profile.db" || c.LogLevel != "info" ||
					c.ShutdownTimeout != 10*time.Second || len(c.EtcdEndpoints) != 0 {
					t.Fatalf("defaults = %+v", c)
				}
			},
		},
		{
			name: "env fallbacks",
			env: map[string]string{"TENURE_PROFILE_LISTEN": "0.0.0.0:7000", "TENURE_PROFILE_ETCD_ENDPOINTS": "http://a:2379, http://b:2379",
				"TENURE_PROFILE_SHUTDOWN_TIMEOUT": "3s", "TENURE_PROFILE_DSN": "postgres://x/y"},
			check: func(t *testing.T, c app.Config) {
				if c.ListenAddr != "0.0.0.0:7000" || c.ShutdownTimeout != 3*time.Second || c.DSN != "postgres://x/y" ||
					!slices.Equal(c.EtcdEndpoints, []string{"http://a:2379", "http://b:2379"}) {
					t.Fatalf("config = %+v", c)
				}
			},
		},
		{
			name: "flags beat env",
			env:  map[string]string{"TENURE_PROFILE_LOG_LEVEL": "warn"},
			args: []string{"-log-level", "debug", "-etcd-endpoints", "http://c:2379"},
			check: func(t *testing.T, c app.Config) {
				if c.LogLevel != "debug" || !slices.Equal(c.EtcdEndpoints, []string{"http://c:2379"}) {
					t.Fatalf("config = %+v", c)
				}
			},
		},
		{name: "bad env duration", env: map[string]string{"TENURE_PROFILE_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "SHUTDOWN_TIMEOUT"},
		{name: "bad level", args: []string{"-log-level", "loud"}, wantErr: "log level"},
		{name: "empty dsn", args: []string{"-dsn", ""}, wantErr: "dsn"},
		{name: "zero timeout", args: []string{"-shutdown-timeout", "0s"}, wantErr: "shutdown timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var c app.Config
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			c.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestAppLifecycle runs the app with SQLite and an embedded etcd: it
// registers, serves, and on cancel deregisters and stops even while an
// event stream is open.
func TestAppLifecycle(t *testing.T) {
	etcd := etcdtest.Start(t)
	cli := etcdtest.Client(t, etcd)
	var cfg app.Config
	cfg.RegisterFlags(flag.NewFlagSet("test", flag.ContinueOnError))
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.DSN = "sqlite:" + filepath.Join(t.TempDir(), "sub", "profile.db")
	cfg.EtcdEndpoints = etcd.Endpoints()
	cfg.Auth = stacktest.AuthConfig(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, cleanup, err := app.New(ctx, cfg, app.Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	watch := cli.Watch(ctx, discovery.KeyPrefix+app.ServiceName+"/", clientv3.WithPrefix())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-watch: // registered
	case <-time.After(10 * time.Second):
		t.Fatal("no registration in etcd")
	}

	client := profilev1.NewProfileServiceClient(stacktest.Dial(t, a.Addr()))
	if _, err := client.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "a-1", Customer: &profilev1.Customer{}}); err != nil {
		t.Fatal(err)
	}
	eps, err := discovery.Endpoints(ctx, cli, app.ServiceName)
	if err != nil || !slices.Contains(eps, a.Addr()) {
		t.Fatalf("endpoints = %v, %v; want %s registered", eps, err, a.Addr())
	}

	stream, err := client.StreamEvents(context.Background(), &profilev1.StreamEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second): // well under the 10 s drain limit
		t.Fatal("Run did not return after cancel")
	}
	// The log holds a-1's customer_updated event; after it the stream ends.
	var recvErr error
	for recvErr == nil {
		_, recvErr = stream.Recv()
	}
	if status.Code(recvErr) != codes.Unavailable && !errors.Is(recvErr, io.EOF) {
		t.Fatalf("stream after shutdown: %v, want Unavailable", recvErr)
	}
	eps, err = discovery.Endpoints(context.Background(), cli, app.ServiceName)
	if err != nil || slices.Contains(eps, a.Addr()) {
		t.Fatalf("endpoints after shutdown = %v, %v; want deregistered", eps, err)
	}
}
