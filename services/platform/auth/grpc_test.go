package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/auth/authtest"
)

const emptyCall = "/grpc.testing.TestService/EmptyCall"

// testService answers EmptyCall with the caller's principal in a header.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
	seen chan auth.Principal
}

func (s *testService) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	p, _ := auth.FromContext(ctx)
	s.seen <- p
	return &testgrpc.Empty{}, nil
}

// serve runs a gRPC server guarded by g, with opts, and returns its address.
func serve(t *testing.T, g *auth.Guard, svc *testService, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, grpc.ChainUnaryInterceptor(g.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(g.StreamServerInterceptor()))
	srv := grpc.NewServer(opts...)
	testgrpc.RegisterTestServiceServer(srv, svc)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestGuardOverGRPC(t *testing.T) {
	kf := authtest.NewKeyFile(t)
	operator := kf.Create(t, "ops", auth.Operator)
	analyst := kf.Create(t, "reader", auth.Analyst)
	iss := authtest.NewIssuer(t)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{KeysFile: kf.Path, JWT: iss.Config()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	g := &auth.Guard{Auth: a, Policy: auth.Policy{emptyCall: {auth.Operator}}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	svc := &testService{seen: make(chan auth.Principal, 1)}
	addr := serve(t, g, svc)
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	for _, tc := range []struct {
		name   string
		creds  string
		code   codes.Code
		reason string
		who    string
	}{
		{"operator key", operator, codes.OK, "", "key:ops"},
		{"operator token", iss.Token(t, "carol", auth.Operator), codes.OK, "", "jwt:carol"},
		{"analyst key", analyst, codes.PermissionDenied, auth.ReasonPermissionDenied, ""},
		{"no credentials", "", codes.Unauthenticated, auth.ReasonUnauthenticated, ""},
		{"garbage", "tnr_nope", codes.Unauthenticated, auth.ReasonUnauthenticated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []grpc.CallOption
			if tc.creds != "" {
				opts = append(opts, grpc.PerRPCCredentials(auth.KeyCredentials{Key: tc.creds}))
			}
			_, err := testgrpc.NewTestServiceClient(cc).EmptyCall(context.Background(), &testgrpc.Empty{}, opts...)
			st := status.Convert(err)
			if st.Code() != tc.code {
				t.Fatalf("got %v, want %v", err, tc.code)
			}
			if tc.code == codes.OK {
				if p := <-svc.seen; p.String() != tc.who {
					t.Errorf("handler saw %s, want %s", p, tc.who)
				}
				return
			}
			info := errorInfo(t, st)
			if info.GetReason() != tc.reason || info.GetDomain() != auth.Domain {
				t.Errorf("error info %v, want reason %s", info, tc.reason)
			}
			if tc.code == codes.PermissionDenied && (info.GetMetadata()["requiredRoles"] != "admin,operator" || !strings.Contains(st.Message(), "operator")) {
				t.Errorf("denial %q %v: want it to name the operator role", st.Message(), info.GetMetadata())
			}
		})
	}
	if !strings.Contains(logs.String(), `"msg":"audit"`) || !strings.Contains(logs.String(), `"principal":"key:ops"`) {
		t.Errorf("audit log %s: want a record for key:ops", logs.String())
	}
}

func TestTwoAuthorizationValuesAreRefused(t *testing.T) {
	kf := authtest.NewKeyFile(t)
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{KeysFile: kf.Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &auth.Guard{Auth: a, Policy: auth.Policy{emptyCall: {auth.Operator}}, Log: slog.New(slog.DiscardHandler)}
	addr := serve(t, g, &testService{seen: make(chan auth.Principal, 1)})
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	_, err = testgrpc.NewTestServiceClient(cc).EmptyCall(context.Background(), &testgrpc.Empty{},
		grpc.PerRPCCredentials(auth.KeyCredentials{Key: kf.Create(t, "a", auth.Operator)}),
		grpc.PerRPCCredentials(auth.KeyCredentials{Key: kf.Create(t, "b", auth.Operator)}))
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("got %v, want Unauthenticated", err)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := authtest.NewCA(t, "loyalty")
	a, err := auth.NewAuthenticator(context.Background(), auth.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &auth.Guard{Auth: a, Policy: auth.Policy{emptyCall: {auth.Service}}, Log: slog.New(slog.DiscardHandler)}
	serverTLS, err := auth.TLSConfig{CertFile: ca.ServerCertFile, KeyFile: ca.ServerKeyFile, ClientCAFile: ca.CertFile}.Server()
	if err != nil {
		t.Fatal(err)
	}
	svc := &testService{seen: make(chan auth.Principal, 1)}
	addr := serve(t, g, svc, grpc.Creds(credentials.NewTLS(serverTLS)))

	call := func(c auth.TLSConfig) error {
		tlsCfg, err := c.Client()
		if err != nil {
			t.Fatal(err)
		}
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		_, err = testgrpc.NewTestServiceClient(cc).EmptyCall(context.Background(), &testgrpc.Empty{})
		return err
	}
	if err := call(auth.TLSConfig{CAFile: ca.CertFile, CertFile: ca.ClientCertFile, KeyFile: ca.ClientKeyFile}); err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	if p := <-svc.seen; p.String() != "cert:loyalty" || !p.Has(auth.Service) {
		t.Errorf("principal %+v, want cert:loyalty with the service role", p)
	}
	if err := call(auth.TLSConfig{CAFile: ca.CertFile}); err == nil {
		t.Error("without a client certificate: call succeeded, want the handshake refused")
	}
}

func errorInfo(t *testing.T, st *status.Status) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	t.Fatalf("status %v has no ErrorInfo", st)
	return nil
}
