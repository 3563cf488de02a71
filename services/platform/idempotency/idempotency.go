// Package idempotency makes mutating RPCs safe to retry: a request carrying
// a request_id is executed once, and a retry with the same id gets the
// stored first response back.
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
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
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// Reasons carried in the google.rpc.ErrorInfo of the errors the
// interceptor returns.
const (
	ReasonKeyReused         = "IDEMPOTENCY_KEY_REUSED"
	ReasonRequestInProgress = "REQUEST_IN_PROGRESS"
)

// ErrorDomain is the ErrorInfo domain of the interceptor's errors.
const ErrorDomain = "tenure.dev"

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
	db  *sqlstore.DB
	now func() time.Time
}

// NewStore returns a Store over db. Call Migrate before use.
func NewStore(db *sqlstore.DB) *Store {
	return &Store{db: db, now: time.Now}
}

// Migrate creates the idempotency_keys table if it does not exist.
func (s *Store) Migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("idempotency: migrations: %w", err)
	}
	return s.db.Migrate(ctx, sub)
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
			updatedAt int64
		)
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT fingerprint, state, response, updated_at
			FROM idempotency_keys WHERE request_id = ?`), key).Scan(&gotFP, &state, &response, &updatedAt)
		if err != nil {
			return err
		}
		if string(gotFP) != string(fp) {
			return errKeyReused(key)
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
				return errInProgress(key)
			}
			// The first call was abandoned: take it over.
			_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys SET updated_at = ?
				WHERE request_id = ? AND state = 'pending' AND updated_at = ?`), claim, key, updatedAt)
			return err
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

func errKeyReused(key string) error {
	st := status.New(codes.FailedPrecondition, "idempotency: request_id was already used for a different request")
	return withInfo(st, ReasonKeyReused, key)
}

func errInProgress(key string) error {
	st := status.New(codes.Aborted, "idempotency: a request with this request_id is in progress")
	return withInfo(st, ReasonRequestInProgress, key)
}

func withInfo(st *status.Status, reason, key string) error {
	ds, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   reason,
		Domain:   ErrorDomain,
		Metadata: map[string]string{"request_id": key},
	})
	if err != nil {
		return st.Err()
	}
	return ds.Err()
}
