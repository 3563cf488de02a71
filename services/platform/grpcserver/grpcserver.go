// Package grpcserver runs a service's gRPC server with Tenure's standard
// interceptor chain, health and reflection services, discovery registration
// and graceful shutdown.
//
// Lifecycle: New listens; the caller registers its services on GRPC(); Run
// serves, marks health SERVING and registers in etcd — in the background, so
// a replica started while etcd is down serves direct calls at once, reports
// NOT_SERVING for the health service RegistrationHealth and registers when
// etcd answers. When Run's context is
// cancelled the server deregisters first (so clients stop picking it), marks
// health NOT_SERVING, drains in-flight RPCs for up to ShutdownTimeout and then
// stops.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/tenurehq/tenure/services/platform/apierr"
	"github.com/tenurehq/tenure/services/platform/discovery"
	"github.com/tenurehq/tenure/services/platform/telemetry"
)

// defaultListenAddr is the listen address New uses when none is set.
const defaultListenAddr = "127.0.0.1:0"

// DefaultShutdownTimeout is the one default bound of a drain on shutdown:
// every service's gRPC server, the gateway's HTTP server (through
// bootstrap.Config's -shutdown-timeout) and the telemetry flush after it.
const DefaultShutdownTimeout = 10 * time.Second

// KeepaliveMinTime is the shortest interval between a client's keepalive
// pings that the server accepts; it must not exceed the clients' own
// (grpcclient.KeepaliveTime), or the server would answer their pings with
// GOAWAY and close busy connections.
const KeepaliveMinTime = 5 * time.Second

// RegistrationHealth is the health service name that reports whether the
// replica is registered in discovery: SERVING when it is, NOT_SERVING while
// it is not (etcd unreachable). The overall status ("") and the service's
// own stay SERVING either way, as the replica serves direct calls.
const RegistrationHealth = "tenure.discovery"

// Errors returned by New and Run.
var (
	ErrNoService  = errors.New("grpcserver: service name required")
	ErrRunTwice   = errors.New("grpcserver: Run called more than once")
	ErrServerDied = errors.New("grpcserver: server stopped unexpectedly")
)

// Config configures a Server. Only Service is required.
type Config struct {
	// Service is the service name, used for discovery and health.
	Service string
	// ListenAddr is the host:port to listen on; default 127.0.0.1:0.
	ListenAddr string
	// AdvertiseAddr is the host:port registered in discovery; default the
	// listener's address (with a wildcard host replaced by this machine's
	// first non-loopback IP).
	AdvertiseAddr string
	// Etcd is the discovery client; nil disables registration.
	Etcd *clientv3.Client
	// Logger receives request and lifecycle logs; use telemetry.NewLogger
	// so lines carry the trace id. Nil means slog.Default().
	Logger *slog.Logger
	// Telemetry provides tracing and metrics; nil disables them.
	Telemetry *telemetry.Providers
	// Errors maps handler errors to statuses; nil means a table with only
	// apierr's generic rules and the domain "<Service>.tenure.dev".
	Errors *apierr.Table
	// Validate, if set, is called with each request message before the
	// handler (for streams, each received message). An error that the
	// Errors table does not map more specifically becomes InvalidArgument.
	Validate func(ctx context.Context, method string, req any) error
	// AuthUnary and AuthStream, when set, authenticate and authorize every
	// call right after logging, before errors are mapped: their statuses
	// (UNAUTHENTICATED, PERMISSION_DENIED) reach the caller as they are.
	AuthUnary  grpc.UnaryServerInterceptor
	AuthStream grpc.StreamServerInterceptor
	// UnaryInterceptors run innermost, after validation (e.g. idempotency).
	UnaryInterceptors []grpc.UnaryServerInterceptor
	// ShutdownTimeout bounds the graceful drain; default 10 s.
	ShutdownTimeout time.Duration
	// ServerOptions are added to the server's own. Give a codec with
	// WithCodec, not grpc.ForceServerCodecV2 (the server forces its own
	// codec, which wraps WithCodec's).
	ServerOptions []grpc.ServerOption
	// RegisterTTL is the discovery lease TTL in seconds; 0 means the
	// discovery default.
	RegisterTTL int64
}

// Server is a gRPC server with Tenure's lifecycle.
type Server struct {
	cfg     Config
	log     *slog.Logger
	lis     net.Listener
	grpc    *grpc.Server
	health  *health.Server
	advert  string
	running atomic.Bool
	reg     atomic.Pointer[discovery.Registration]
}

// New validates cfg, listens on cfg.ListenAddr and builds the gRPC server
// with its interceptor chain: recovery (a panic becomes Internal and is
// logged with its stack) → logging (method, code, duration; trace id through
// the logger) → error mapping (apierr) → request check → validation →
// cfg.UnaryInterceptors, with cfg.AuthUnary (AuthStream) after logging.
// The request check, for every service, method and
// streamed message, answers INVALID_ARGUMENT to a request that does not
// decode (reason MALFORMED_REQUEST; grpc-go alone would answer INTERNAL) or
// that holds a string with a NUL character or invalid UTF-8 at any depth
// (reason INVALID_TEXT, naming the field path), which PostgreSQL could not
// store.
// Health and reflection services are registered; health reports NOT_SERVING
// until Run.
func New(cfg Config) (*Server, error) {
	if cfg.Service == "" {
		return nil, ErrNoService
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = defaultListenAddr
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Errors == nil {
		cfg.Errors = &apierr.Table{Domain: cfg.Service + ".tenure.dev", Logger: cfg.Logger}
	}
	log := cfg.Logger.With("component", "grpcserver")

	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("grpcserver: listen %s: %w", cfg.ListenAddr, err)
	}
	advert := cfg.AdvertiseAddr
	if advert == "" {
		advert = advertiseAddr(lis.Addr())
	}

	codec := &decodeCodec{CodecV2: serverCodec(cfg.ServerOptions)}
	check := requestCheck{codec: codec}
	unary := []grpc.UnaryServerInterceptor{recoveryUnary(log, cfg.Errors.Domain), loggingUnary(log)}
	stream := []grpc.StreamServerInterceptor{recoveryStream(log, cfg.Errors.Domain), loggingStream(log)}
	if cfg.AuthUnary != nil {
		unary = append(unary, cfg.AuthUnary)
	}
	if cfg.AuthStream != nil {
		stream = append(stream, cfg.AuthStream)
	}
	unary = append(unary, cfg.Errors.UnaryServerInterceptor(), check.unary())
	stream = append(stream, cfg.Errors.StreamServerInterceptor(), check.stream())
	if cfg.Validate != nil {
		unary = append(unary, validateUnary(cfg.Validate))
		stream = append(stream, validateStream(cfg.Validate))
	}
	unary = append(unary, cfg.UnaryInterceptors...)

	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveMinTime, PermitWithoutStream: true}),
	}
	if h := cfg.Telemetry.ServerHandler(); h != nil {
		opts = append(opts, grpc.StatsHandler(h))
	}
	// Serve streams on a pool of long-lived goroutines (one per CPU)
	// rather than a new goroutine per RPC, whose stack would grow again
	// through the interceptors and the storage driver on every call. When
	// every worker is busy a stream still gets its own goroutine.
	opts = append(opts, grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))))
	opts = append(opts, cfg.ServerOptions...)
	opts = append(opts, grpc.ForceServerCodecV2(codec))
	gs := grpc.NewServer(opts...)

	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus(cfg.Service, healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	return &Server{cfg: cfg, log: log, lis: lis, grpc: gs, health: hs, advert: advert}, nil
}

// GRPC returns the underlying server; register services on it before Run.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Addr returns the address the server listens on, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Health returns the health server, e.g. to report a dependency's state.
func (s *Server) Health() *health.Server { return s.health }

// Run serves until ctx is cancelled, then shuts down: deregister from
// discovery, health NOT_SERVING, graceful stop bounded by ShutdownTimeout,
// then a hard stop. Open streams (including health Watch streams) hold the
// drain until they end or ShutdownTimeout passes. It returns nil after a
// clean shutdown. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunTwice
	}
	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(s.lis) }()

	s.setServing(healthpb.HealthCheckResponse_SERVING)

	var reg *discovery.Registration
	if s.cfg.Etcd != nil {
		s.health.SetServingStatus(RegistrationHealth, healthpb.HealthCheckResponse_NOT_SERVING)
		opts := []discovery.RegisterOption{discovery.WithLogger(s.cfg.Logger), discovery.WithOnChange(s.setRegistered)}
		if s.cfg.RegisterTTL > 0 {
			opts = append(opts, discovery.WithTTL(s.cfg.RegisterTTL))
		}
		var err error
		reg, err = discovery.Keep(ctx, s.cfg.Etcd, s.cfg.Service, s.advert, opts...)
		if err != nil {
			s.health.Shutdown()
			s.grpc.Stop()
			<-served
			return fmt.Errorf("grpcserver: register: %w", err)
		}
		s.reg.Store(reg)
	}
	s.log.InfoContext(ctx, "serving", "addr", s.Addr(), "advertise", s.advert, "discovery", s.cfg.Etcd != nil)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
		served <- serveErr // let shutdown's wait below return at once
		s.log.ErrorContext(ctx, "server stopped unexpectedly", "error", serveErr)
	}
	s.shutdown(context.WithoutCancel(ctx), reg)
	<-served
	if serveErr != nil {
		return fmt.Errorf("%w: %w", ErrServerDied, serveErr)
	}
	return nil
}

// Registered reports whether the server is registered in discovery; false
// before Run, without etcd, and while etcd is unreachable.
func (s *Server) Registered() bool {
	reg := s.reg.Load()
	return reg != nil && reg.Registered()
}

func (s *Server) setRegistered(ok bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if ok {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus(RegistrationHealth, st)
}

func (s *Server) setServing(st healthpb.HealthCheckResponse_ServingStatus) {
	s.health.SetServingStatus("", st)
	s.health.SetServingStatus(s.cfg.Service, st)
}

// shutdown runs the stop sequence; ctx carries values only. The time it
// took is logged from the wall (monotonic) clock.
func (s *Server) shutdown(ctx context.Context, reg *discovery.Registration) {
	start := time.Now()
	s.log.InfoContext(ctx, "shutting down", "timeout", s.cfg.ShutdownTimeout)
	if reg != nil {
		dctx, cancel := context.WithTimeout(ctx, min(s.cfg.ShutdownTimeout, 5*time.Second))
		if err := reg.Deregister(dctx); err != nil {
			// The lease expires on its own; carry on draining.
			s.log.WarnContext(ctx, "deregister failed", "error", err)
		}
		cancel()
	}
	s.health.Shutdown() // NOT_SERVING for every service, and stays so

	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	timer := time.NewTimer(s.cfg.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.log.WarnContext(ctx, "drain timed out, stopping", "timeout", s.cfg.ShutdownTimeout)
		s.grpc.Stop()
		<-done
	}
	s.log.InfoContext(ctx, "stopped", "took", time.Since(start))
}

// advertiseAddr returns addr, with an unspecified host (0.0.0.0, ::)
// replaced by the first non-loopback IPv4 address of this machine.
func advertiseAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	ip := "127.0.0.1"
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				ip = n.IP.String()
				break
			}
		}
	}
	return net.JoinHostPort(ip, fmt.Sprint(tcp.Port))
}

// isHealthOrReflection reports infrastructure methods logged at debug level.
func isHealthOrReflection(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}
