package bootstrap_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
	"github.com/tenurehq/tenure/services/platform/bootstrap"
)

// TestMutualTLSServer: with certificate files and a client CA, a service's
// gRPC server speaks TLS only, admits a client certificate signed by the CA
// as a service (allowed what the service role may call, refused the rest)
// and refuses a connection without one.
func TestMutualTLSServer(t *testing.T) {
	ca := authtest.NewCA(t, "segmentation")
	ctx, cancel := context.WithCancel(t.Context())
	cfg := bootstrap.Config{ListenAddr: "127.0.0.1:0", DSN: "sqlite:" + filepath.Join(t.TempDir(), "demo.db"), ShutdownTimeout: 5 * time.Second,
		TLS: auth.TLSConfig{CertFile: ca.ServerCertFile, KeyFile: ca.ServerKeyFile, ClientCAFile: ca.CertFile}}
	rt, err := bootstrap.Start(ctx, "demo", cfg, bootstrap.Deps{Logger: slog.New(slog.DiscardHandler)}, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	srv, err := rt.NewServer(nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	profilev1.RegisterProfileServiceServer(srv.GRPC(), fakeProfile{})
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	dial := func(c auth.TLSConfig) profilev1.ProfileServiceClient {
		tlsCfg, err := c.Client()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return profilev1.NewProfileServiceClient(conn)
	}
	svc := dial(auth.TLSConfig{CAFile: ca.CertFile, CertFile: ca.ClientCertFile, KeyFile: ca.ClientKeyFile})
	// The fake does not implement it: UNIMPLEMENTED means the guard let the
	// service in.
	if _, err := svc.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{}); status.Code(err) != codes.Unimplemented {
		t.Errorf("GetEventLogHead as a service = %v, want the handler's Unimplemented", err)
	}
	if _, err := svc.CreateCustomer(ctx, &profilev1.CreateCustomerRequest{CustomerId: "c1"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("CreateCustomer as a service = %v, want PermissionDenied", err)
	}
	anon := dial(auth.TLSConfig{CAFile: ca.CertFile})
	if _, err := anon.GetEventLogHead(ctx, &profilev1.GetEventLogHeadRequest{}); err == nil || status.Code(err) == codes.Unimplemented {
		t.Errorf("without a client certificate = %v, want the connection refused", err)
	}
}
