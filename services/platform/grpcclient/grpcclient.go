// Package grpcclient holds the settings of every Tenure connection to
// another service, so that a slow, frozen or vanished replica costs a caller
// a short delay rather than its whole deadline:
//
//   - keepalive pings, so a connection to a replica that stopped answering
//     (a frozen process, a dead host behind a live TCP connection) is closed
//     and its calls fail over instead of waiting for their deadline;
//   - round-robin balancing over the replicas the resolver reports;
//   - for reads — methods whose proto declares idempotency_level =
//     NO_SIDE_EFFECTS — retries on UNAVAILABLE and hedging: a read that has
//     no answer after Options.HedgeDelay is sent again, to the next replica,
//     and the first answer wins. Writes are sent once.
//
// Reads are found in the protobuf registry of the running binary, so a new
// service's reads get the same treatment without being listed anywhere.
package grpcclient

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Keepalive: after KeepaliveTime without activity a client pings the
// server, and closes the connection when no answer comes within
// KeepaliveTimeout. gRPC does not let a client ping more often than every
// 10 s; servers must allow pings at least this often (see grpcserver).
const (
	KeepaliveTime    = 10 * time.Second
	KeepaliveTimeout = 5 * time.Second
)

// MaxAttempts bounds the attempts of one read, the first included, whether
// they are retries after UNAVAILABLE or hedges.
const MaxAttempts = 3

// DefaultHedgeDelay is how long a read waits for an answer before it is
// also sent to another replica.
const DefaultHedgeDelay = time.Second

// Options tune DialOptions. The zero value gives the defaults.
type Options struct {
	// HedgeDelay is how long a read waits for an answer before the same
	// read is sent to the next replica; default DefaultHedgeDelay.
	HedgeDelay time.Duration
}

// DialOptions returns the dial options of a connection to a Tenure service:
// plaintext transport, keepalive, the service config of ServiceConfig, and
// the hedging interceptor. Options given after them to grpc.NewClient win.
func DialOptions(o Options) []grpc.DialOption {
	if o.HedgeDelay <= 0 {
		o.HedgeDelay = DefaultHedgeDelay
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                KeepaliveTime,
			Timeout:             KeepaliveTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultServiceConfig(ServiceConfig()),
		grpc.WithChainUnaryInterceptor(hedgeReads(o.HedgeDelay, MaxAttempts)),
	}
}

// NewClient connects to target (e.g. a replica's host:port) with
// DialOptions' defaults followed by opts.
func NewClient(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(target, append(DialOptions(Options{}), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("grpcclient: dial %s: %w", target, err)
	}
	return conn, nil
}

// ServiceConfig returns the default gRPC service config: round-robin
// balancing and, for every read in the registry, up to MaxAttempts attempts
// on UNAVAILABLE with exponential backoff, throttled when most calls fail.
func ServiceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	var names []name
	for _, m := range ReadMethods() {
		svc, method, _ := strings.Cut(strings.TrimPrefix(m, "/"), "/")
		names = append(names, name{svc, method})
	}
	cfg := map[string]any{
		"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}},
		"retryThrottling":     map[string]any{"maxTokens": 10, "tokenRatio": 0.1},
	}
	if len(names) > 0 {
		cfg["methodConfig"] = []any{map[string]any{
			"name": names,
			"retryPolicy": map[string]any{
				"maxAttempts":          MaxAttempts,
				"initialBackoff":       "0.05s",
				"maxBackoff":           "1s",
				"backoffMultiplier":    2,
				"retryableStatusCodes": []string{"UNAVAILABLE"},
			},
		}}
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return string(b)
}

// ReadMethods returns the full names ("/package.Service/Method") of every
// method registered in this binary whose proto options declare
// idempotency_level = NO_SIDE_EFFECTS, sorted.
func ReadMethods() []string {
	var out []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		svcs := fd.Services()
		for i := range svcs.Len() {
			methods := svcs.Get(i).Methods()
			for j := range methods.Len() {
				if md := methods.Get(j); noSideEffects(md) {
					out = append(out, "/"+string(md.Parent().FullName())+"/"+string(md.Name()))
				}
			}
		}
		return true
	})
	slices.Sort(out)
	return out
}

// IsRead reports whether fullMethod ("/package.Service/Method") is declared
// NO_SIDE_EFFECTS in the protobuf registry. Servers ask on every call (the
// audit), so the answers for the registry's methods are kept.
func IsRead(fullMethod string) bool {
	if read, ok := (*readMethods.Load())[fullMethod]; ok {
		return read
	}
	name := protoreflect.FullName(strings.Replace(strings.TrimPrefix(fullMethod, "/"), "/", ".", 1))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return false
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok {
		return false
	}
	read := noSideEffects(md)
	keepReadMethod(fullMethod, read)
	return read
}

// readMethods is IsRead's answer for each method it found in the registry,
// so it holds no more entries than the registry has methods (and their
// spellings). It is copied on write: reads take no lock.
var (
	readMethods   atomic.Pointer[map[string]bool]
	readMethodsMu sync.Mutex
)

func init() { readMethods.Store(&map[string]bool{}) }

func keepReadMethod(fullMethod string, read bool) {
	readMethodsMu.Lock()
	defer readMethodsMu.Unlock()
	old := *readMethods.Load()
	m := make(map[string]bool, len(old)+1)
	maps.Copy(m, old)
	m[fullMethod] = read
	readMethods.Store(&m)
}

func noSideEffects(md protoreflect.MethodDescriptor) bool {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	return ok && opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS
}
