package app_test

import (
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/gateway/app"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c app.Config)
		wantErr bool
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c app.Config) {
				if c.ListenAddr != "127.0.0.1:8080" || c.MaxBodyBytes != 4<<20 || c.ShutdownTimeout != 10*time.Second || c.BackendTimeout != 30*time.Second || c.LogLevel != "info" {
					t.Errorf("defaults %+v", c)
				}
			},
		},
		{
			name: "env",
			env: map[string]string{
				"TENURE_GATEWAY_LISTEN": "0.0.0.0:9000", "TENURE_GATEWAY_ETCD_ENDPOINTS": "http://a:2379, http://b:2379",
				"TENURE_GATEWAY_MAX_BODY_BYTES": "1024", "TENURE_GATEWAY_SHUTDOWN_TIMEOUT": "3s", "TENURE_GATEWAY_LOG_LEVEL": "debug",
				"TENURE_GATEWAY_BACKEND_TIMEOUT": "5s",
			},
			check: func(t *testing.T, c app.Config) {
				if c.ListenAddr != "0.0.0.0:9000" || !slices.Equal(c.EtcdEndpoints, []string{"http://a:2379", "http://b:2379"}) ||
					c.MaxBodyBytes != 1024 || c.ShutdownTimeout != 3*time.Second || c.BackendTimeout != 5*time.Second || c.LogLevel != "debug" {
					t.Errorf("from env %+v", c)
				}
			},
		},
		{
			name: "flags beat env",
			env:  map[string]string{"TENURE_GATEWAY_LISTEN": "0.0.0.0:9000"},
			args: []string{"-listen", "127.0.0.1:7000", "-etcd-endpoints", "http://c:2379", "-backend-timeout", "2s"},
			check: func(t *testing.T, c app.Config) {
				if c.ListenAddr != "127.0.0.1:7000" || !slices.Equal(c.EtcdEndpoints, []string{"http://c:2379"}) || c.BackendTimeout != 2*time.Second {
					t.Errorf("from flags %+v", c)
				}
			},
		},
		{name: "bad env number", env: map[string]string{"TENURE_GATEWAY_MAX_BODY_BYTES": "lots"}, wantErr: true},
		{name: "bad listen", args: []string{"-listen", "8080"}, wantErr: true},
		{name: "zero body limit", args: []string{"-max-body-bytes", "0"}, wantErr: true},
		{name: "zero backend timeout", args: []string{"-backend-timeout", "0s"}, wantErr: true},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: true},
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
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
