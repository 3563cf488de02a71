// Package idempotency makes mutating RPCs safe to retry: a request carrying
// a request_id is executed once, and a retry with the same id gets the
// stored first response back.
//
// Keys are kept for a retention period (DefaultRetention unless
// WithRetention says otherwise). An older key is ignored, so a request
// reusing it runs as new, and Purge (run periodically by Sweep) deletes old
// keys in small batches.
//
// The guarantee is at most once per key under ordinary failures, not
// exactly once under crashes: the interceptor records the response in its
// own transaction after the handler's transaction has committed. If the
// process dies between the two, the key stays pending; a retry fails with
// REQUEST_IN_PROGRESS until the pending timeout (two minutes) passes, and
// then runs the handler again. This is the accepted trade-off of keeping
// the key store independent of each service's transactions: where a
// second execution would do harm, the service makes the mutation itself
// naturally idempotent (a caller-supplied event id, a unique order id, a
// guarded update).
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Reasons carried in the google.rpc.ErrorInfo of the errors the
// interceptor returns.
const (
	ReasonKeyReused         = "IDEMPOTENCY_KEY_REUSED"
	ReasonRequestInProgress = "REQUEST_IN_PROGRESS"
)

// DefaultDomain is the ErrorInfo domain of the interceptor's errors when
// WithDomain is not given. Services pass their own, "<service>.tenure.dev".
const DefaultDomain = "tenure.dev"

// DefaultRetention is how long a key is remembered when WithRetention is
// not given.
const DefaultRetention = 24 * time.Hour

// migrationComponent names the idempotency store's migrations in
// schema_migrations.
const migrationComponent = "idempotency"

// purgeBatch is the most keys one Purge transaction deletes, so purging
// never holds long locks.
const purgeBatch = 500

// requestIDField is the request field that carries the idempotency key.
const requestIDField protoreflect.Name = "request_id"

// pendingTimeout is how long a call may stay in flight before its key is
// considered abandoned (the replica died mid-call) and a retry may run it.
const pendingTimeout = 2 * time.Minute

//go:embed migrations
var migrations embed.FS

// Store keeps idempotency keys and the responses of completed calls in the
// service's database.
type Store struct {
	db        *sqlstore.DB
	now       func() time.Time
	domain    string
	retention time.Duration
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

// WithClock sets the clock used for key timestamps, expiry and the pending
// timeout (default time.Now), for tests.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// NewStore returns a Store over db. Call Migrate before use.
func NewStore(db *sqlstore.DB, opts ...Option) *Store {
	s := &Store{db: db, now: time.Now, domain: DefaultDomain, retention: DefaultRetention}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Retention returns how long keys are remembered.
func (s *Store) Retention() time.Duration { return s.retention }

// Migrate creates the idempotency_keys table if it does not exist.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("idempotency: migrations: %w", err)
	}
	return s.db.Migrate(ctx, migrationComponent, sub)
}

// Purge deletes keys created before before, in batches of a few hundred
// per transaction, and returns how many it deleted. Several replicas may
// purge at once.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_keys WHERE request_id IN
				(SELECT request_id FROM idempotency_keys WHERE created_at < ? LIMIT ?)`),
				before.UnixNano(), purgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("idempotency: purge: %w", err)
		}
		total += n
		if n < purgeBatch {
			return total, nil
		}
	}
}

// Sweep purges expired keys now and then every interval until ctx is
// done. Failures are logged to lg and retried at the next tick.
func (s *Store) Sweep(ctx context.Context, interval time.Duration, lg *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		n, err := s.Purge(ctx, s.now().Add(-s.retention))
		switch {
		case err != nil && ctx.Err() == nil:
			lg.WarnContext(ctx, "idempotency: purge expired keys", "error", err)
		case n > 0:
			lg.DebugContext(ctx, "idempotency: purged expired keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// UnaryServerInterceptor returns an interceptor that deduplicates calls
// whose request has a non-empty string field request_id.
//
// The request's fingerprint is the SHA-256 of the method name and the
// deterministic protobuf encoding of the request with request_id cleared.
// A call with a new key runs the handler; its response is stored when it
// succeeds, and the key is released when it fails so the caller can retry.
// A later call with the same key and fingerprint gets the stored response
// without running the handler. The same key with a different request (or
// method) fails with FailedPrecondition, reason IDEMPOTENCY_KEY_REUSED; a
// duplicate of a call still in flight fails with Aborted, reason
// REQUEST_IN_PROGRESS.
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
		fp, err := fingerprint(info.FullMethod, msg)
		if err != nil {
			return nil, err
		}

		claim, stored, err := s.begin(ctx, key, info.FullMethod, fp)
		if err != nil {
			return nil, err
		}
		if stored != nil {
			return stored, nil
		}

		resp, herr := handler(ctx, req)
		// Record the outcome even when the caller has gone away: the
		// handler's effects are already committed.
		bg := context.WithoutCancel(ctx)
		if herr != nil {
			_ = s.release(bg, key, claim)
			return resp, herr
		}
		if rmsg, ok := resp.(proto.Message); ok {
			// When storing fails the key stays pending until it times out,
			// so a retry cannot run the handler twice in the meantime.
			_ = s.complete(bg, key, claim, rmsg)
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

func fingerprint(method string, msg proto.Message) ([]byte, error) {
	clone := proto.Clone(msg)
	m := clone.ProtoReflect()
	m.Clear(m.Descriptor().Fields().ByName(requestIDField))
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(clone)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "idempotency: fingerprint request")
	}
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(b)
	return h.Sum(nil), nil
}

// begin claims key for this call, or returns the stored response of an
// identical completed call. The claim is the pending row's updated_at,
// which guards the later complete or release against a takeover.
func (s *Store) begin(ctx context.Context, key, method string, fp []byte) (claim int64, stored proto.Message, err error) {
	var reply proto.Message
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		reply, claim = nil, s.now().UnixNano()
		res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO idempotency_keys
			(request_id, method, fingerprint, state, created_at, updated_at)
			VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (request_id) DO NOTHING`),
			key, method, fp, claim, claim)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}

		var (
			gotFP     []byte
			state     string
			response  []byte
			createdAt int64
			updatedAt int64
		)
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT fingerprint, state, response, created_at, updated_at
			FROM idempotency_keys WHERE request_id = ?`), key).Scan(&gotFP, &state, &response, &createdAt, &updatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return s.errInProgress(key) // purged just now; a retry inserts it afresh
		}
		if err != nil {
			return err
		}
		if claim-createdAt >= s.retention.Nanoseconds() {
			// The key has expired but was not purged yet: start afresh.
			res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys
				SET method = ?, fingerprint = ?, state = 'pending', response = NULL, created_at = ?, updated_at = ?
				WHERE request_id = ? AND created_at = ? AND updated_at = ?`),
				method, fp, claim, claim, key, createdAt, updatedAt)
			return s.claimed(res, err, key)
		}
		if string(gotFP) != string(fp) {
			return s.errKeyReused(key)
		}
		switch state {
		case "done":
			var a anypb.Any
			if err := proto.Unmarshal(response, &a); err != nil {
				return fmt.Errorf("idempotency: decode stored response: %w", err)
			}
			reply, err = a.UnmarshalNew()
			if err != nil {
				return fmt.Errorf("idempotency: decode stored response: %w", err)
			}
			return nil
		default: // pending
			if claim-updatedAt < pendingTimeout.Nanoseconds() {
				return s.errInProgress(key)
			}
			// The first call was abandoned: take it over.
			res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys SET updated_at = ?
				WHERE request_id = ? AND state = 'pending' AND updated_at = ?`), claim, key, updatedAt)
			return s.claimed(res, err, key)
		}
	})
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.Error(codes.Internal, "idempotency: key store unavailable")
		}
		return 0, nil, err
	}
	return claim, reply, nil
}

// claimed checks that a guarded takeover updated the row: when it did not,
// a concurrent retry took the key first.
func (s *Store) claimed(res sql.Result, err error, key string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return s.errInProgress(key)
	}
	return nil
}

// complete stores the response of a successful call.
func (s *Store) complete(ctx context.Context, key string, claim int64, resp proto.Message) error {
	a, err := anypb.New(resp)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys
			SET state = 'done', response = ?, updated_at = ?
			WHERE request_id = ? AND state = 'pending' AND updated_at = ?`),
			b, s.now().UnixNano(), key, claim)
		return err
	})
}

// release forgets the key of a failed call so it can be retried.
func (s *Store) release(ctx context.Context, key string, claim int64) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_keys
			WHERE request_id = ? AND state = 'pending' AND updated_at = ?`), key, claim)
		return err
	})
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
