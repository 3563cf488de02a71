package bootstrap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
)

// serveAdmin listens on addr and serves the admin endpoints, /metrics
// (Prometheus) for now, until Close. It needs telemetry with a Prometheus
// reader: Start sets one up when none was passed in.
func (rt *Runtime) serveAdmin(addr string) error {
	if rt.Telemetry == nil || rt.Telemetry.Metrics == nil {
		return errors.New("admin server: the telemetry passed in serves no metrics (use telemetry.WithPrometheus)")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("admin server: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", rt.Telemetry.Metrics)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(rt.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rt.Logger.Error("admin server stopped", "error", err)
		}
	}()
	rt.admin = ln
	rt.OnClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	})
	rt.Logger.Info("admin server listening", "addr", ln.Addr().String())
	return nil
}

// AdminAddr is the address the admin server listens on, e.g.
// "127.0.0.1:9090"; empty when Config.AdminAddr is.
func (rt *Runtime) AdminAddr() string {
	if rt.admin == nil {
		return ""
	}
	return rt.admin.Addr().String()
}

// etcdTLS is the TLS configuration of the etcd client; nil when no file
// is configured.
func (c Config) etcdTLS() (*tls.Config, error) {
	if c.EtcdCAFile == "" && c.EtcdCertFile == "" && c.EtcdKeyFile == "" {
		return nil, nil
	}
	info := transport.TLSInfo{TrustedCAFile: c.EtcdCAFile, CertFile: c.EtcdCertFile, KeyFile: c.EtcdKeyFile}
	return info.ClientConfig()
}
