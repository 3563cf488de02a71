// Package idempotency makes mutating RPCs safe to retry: a request carrying
// a request_id is executed once, and a retry with the same id gets the
// stored first response back.
//
// # Request ids
//
// A request_id is checked before anything else (CheckRequestID): at most
// MaxRequestIDLength characters, each a printable ASCII character other
// than space, so UUIDs, ULIDs and base64url strings all fit. Anything else
// fails with INVALID_ARGUMENT, reason INVALID_REQUEST_ID, and a BadRequest
// naming request_id. An empty request_id means the call is not
// deduplicated. A request_id should be opaque: it is kept in clear.
//
// # Retention
//
// Keys are kept for a retention period (DefaultRetention unless
// WithRetention says otherwise). An older key is ignored, so a request
// reusing it runs as new, and Purge (run periodically by Sweep) deletes old
// keys in small batches.
//
// # Claims and crashes
//
// A call claims its key before the handler runs, and refreshes the claim's
// heartbeat every HeartbeatInterval while the handler runs. A duplicate
// arriving meanwhile fails with ABORTED, reason REQUEST_IN_PROGRESS. If the
// process dies mid-call its heartbeat stops, and a retry arriving once the
// heartbeat is ClaimTimeout old takes the claim over and runs the handler.
// Heartbeats are timestamps from each replica's clock, so replicas' clocks
// must agree to well within ClaimTimeout-HeartbeatInterval (NTP does). A
// replica that stalls for longer than ClaimTimeout (a frozen process) may
// find its call taken over; when it resumes, its response is not stored.
//
// The guarantee is at most once per key under ordinary failures, not
// exactly once under crashes: the response is recorded in its own
// transaction after the handler's transaction has committed. If the process
// dies between the two, a retry after ClaimTimeout runs the handler again.
// This is the accepted trade-off of keeping the key store independent of
// each service's transactions: where a second execution would do harm, the
// service makes the mutation itself naturally idempotent (a caller-supplied
// event id, a unique order id, a guarded update).
//
// # Personal data
//
// A stored response can hold personal data, such as a customer's name and
// email. A service says whom each request is about by implementing
// SubjectLister on its gRPC service implementation; the subjects (for a
// customer, CustomerSubject) are recorded, as SHA-256 hashes, with the
// claim. When the service erases or deletes a customer, it calls Forget in
// the same transaction: every key recorded with that subject, completed or
// still in flight, loses its response and request fingerprint and becomes
// forgotten. A retry of a forgotten key fails with FAILED_PRECONDITION,
// reason REQUEST_FORGOTTEN, until the key's retention ends. It is not run
// again, because that could recreate the data just erased (a retried
// CreateCustomer would); the caller reads the resource's current state
// instead. A call still in flight when its subject is forgotten returns
// its response to its caller but does not store it; if it fails, its key
// is released as usual.
package idempotency

import (
	"context"
	"crypto/sha256"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Reasons carried in the google.rpc.ErrorInfo of the errors the
// interceptor returns.
const (
	ReasonKeyReused         = "IDEMPOTENCY_KEY_REUSED"
	ReasonRequestInProgress = "REQUEST_IN_PROGRESS"
	ReasonRequestForgotten  = "REQUEST_FORGOTTEN"
	ReasonInvalidRequestID  = "INVALID_REQUEST_ID"
)

// DefaultDomain is the ErrorInfo domain of the interceptor's errors when
// WithDomain is not given. Services pass their own, "<service>.tenure.dev".
const DefaultDomain = "tenure.dev"

// DefaultRetention is how long a key is remembered when WithRetention is
// not given.
const DefaultRetention = 24 * time.Hour

// HeartbeatInterval is how often a call in flight refreshes its claim.
const HeartbeatInterval = time.Second

// ClaimTimeout is how old a claim's heartbeat must be before a retry may
// take the claim over: the claimant is then taken to have died.
const ClaimTimeout = 5 * time.Second

// migrationComponent names the idempotency store's migrations in
// schema_migrations.
const migrationComponent = "idempotency"

// requestIDField is the request field that carries the idempotency key.
const requestIDField protoreflect.Name = "request_id"

//go:embed migrations
var migrations embed.FS

// Store keeps idempotency keys and the responses of completed calls in the
// service's database.
type Store struct {
	db        *sqlstore.DB
	now       func() time.Time
	domain    string
	retention time.Duration
	// ticker makes the heartbeat ticker of a call in flight; tests replace
	// it to drive heartbeats by hand, and set refreshed to learn when a
	// heartbeat has been written.
	ticker    func(d time.Duration) (<-chan time.Time, func())
	refreshed chan<- struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithDomain sets the ErrorInfo domain of the interceptor's errors, e.g.
// "profile.tenure.dev".
func WithDomain(domain string) Option {
	return func(s *Store) { s.domain = domain }
}

// WithRetention sets how long keys are remembered (default 24 hours). A
// retry later than this runs the request again. Values not above zero keep
// the default.
func WithRetention(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.retention = d
		}
	}
}

// WithClock sets the clock used for key timestamps, expiry and claim
// heartbeats (default time.Now), for tests.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// NewStore returns a Store over db. Call Migrate before use.
func NewStore(db *sqlstore.DB, opts ...Option) *Store {
	s := &Store{db: db, now: time.Now, domain: DefaultDomain, retention: DefaultRetention, ticker: realTicker}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

func realTicker(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTicker(d)
	return t.C, t.Stop
}

// Retention returns how long keys are remembered.
func (s *Store) Retention() time.Duration { return s.retention }

// Migrate creates the idempotency tables if they do not exist. Running it
// again, or from several packages sharing the database, is harmless.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("idempotency: migrations: %w", err)
	}
	return s.db.Migrate(ctx, migrationComponent, sub)
}

// UnaryServerInterceptor returns an interceptor that deduplicates calls
// whose request has a non-empty string field request_id.
//
// The request_id must pass CheckRequestID. The request's fingerprint is the
// SHA-256 of the method name and the deterministic protobuf encoding of the
// request with request_id cleared. A call with a new key runs the handler;
// its response is stored when it succeeds, and the key is released when it
// fails so the caller can retry. A later call with the same key and
// fingerprint gets the stored response without running the handler. The
// same key with a different request (or method) fails with
// FailedPrecondition, reason IDEMPOTENCY_KEY_REUSED; a duplicate of a call
// still in flight fails with Aborted, reason REQUEST_IN_PROGRESS; a key
// forgotten by Forget fails with FailedPrecondition, reason
// REQUEST_FORGOTTEN.
func (s *Store) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		key, ok := requestID(msg)
		if !ok {
			return handler(ctx, req)
		}
		if err := CheckRequestID(key); err != nil {
			return nil, s.errInvalidRequestID(ctx, err)
		}
		fp, err := fingerprint(info.FullMethod, msg)
		if err != nil {
			return nil, err
		}

		c, stored, err := s.begin(ctx, key, info.FullMethod, fp, subjectsOf(info.Server, req))
		if err != nil {
			return nil, err
		}
		if stored != nil {
			return stored, nil
		}

		stop := s.keepAlive(ctx, c)
		resp, herr := handler(ctx, req)
		stop()
		// Record the outcome even when the caller has gone away: the
		// handler's effects are already committed.
		bg := context.WithoutCancel(ctx)
		if herr != nil {
			_ = s.release(bg, c)
			return resp, herr
		}
		if rmsg, ok := resp.(proto.Message); ok {
			// When storing fails the key stays pending until its heartbeat
			// times out; a retry then runs the handler again.
			_ = s.complete(bg, c, rmsg)
		}
		return resp, nil
	}
}

// requestID returns the request's non-empty request_id, if it has one.
func requestID(msg proto.Message) (string, bool) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName(requestIDField)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() || fd.IsMap() {
		return "", false
	}
	key := m.Get(fd).String()
	return key, key != ""
}

// fingerprint hashes the method and the request without its request_id.
// The request is copied one level deep only: the copy shares the fields'
// values (a batch's events) with msg, which marshalling reads but does not
// change; a deep copy of a 1,000-event batch cost more than hashing it.
func fingerprint(method string, msg proto.Message) ([]byte, error) {
	src := msg.ProtoReflect()
	id := src.Descriptor().Fields().ByName(requestIDField)
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd != id {
			dst.Set(fd, v)
		}
		return true
	})
	dst.SetUnknown(src.GetUnknown())
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(dst.Interface())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "idempotency: fingerprint request")
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil), nil
}

func (s *Store) errKeyReused(key string) error {
	st := status.Newf(codes.FailedPrecondition,
		"request_id %q was already used for a different request; use a new request_id for a new request", key)
	return s.withInfo(st, ReasonKeyReused, key)
}

func (s *Store) errInProgress(key string) error {
	st := status.Newf(codes.Aborted, "a request with request_id %q is still in progress; retry later", key)
	return s.withInfo(st, ReasonRequestInProgress, key)
}

func (s *Store) errForgotten(key string) error {
	st := status.Newf(codes.FailedPrecondition,
		"the result of the request with request_id %q is no longer kept because a customer it concerned was erased "+
			"or deleted; it is not run again: read the resource's current state, and use a new request_id for a new request", key)
	return s.withInfo(st, ReasonRequestForgotten, key)
}

func (s *Store) withInfo(st *status.Status, reason, key string) error {
	ds, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   reason,
		Domain:   s.domain,
		Metadata: map[string]string{"request_id": key},
	})
	if err != nil {
		return st.Err()
	}
	return ds.Err()
}
