package idempotency

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Key states.
const (
	statePending   = "pending"
	stateDone      = "done"
	stateForgotten = "forgotten"
)

// claim is a call's hold on its key: every later write of the call is
// guarded by the claim's random id, so a call whose claim was taken over
// (or forgotten) cannot overwrite the new owner's row.
type claim struct {
	key string
	id  string
}

// keyRow is a stored key as begin reads it.
type keyRow struct {
	fingerprint []byte
	state       string
	response    []byte
	claimID     string
	createdAt   int64
	updatedAt   int64
}

// begin claims key for this call, or returns the stored response of an
// identical completed call. subjects (hashed) are recorded with a new
// claim.
func (s *Store) begin(ctx context.Context, key, method string, fp []byte, subjects [][]byte) (claim, proto.Message, error) {
	var (
		c     claim
		reply proto.Message
	)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		c, reply = claim{key: key, id: rand.Text()}, nil
		now := s.now().UnixNano()
		res, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO idempotency_keys
			(request_id, method, fingerprint, state, claim_id, created_at, updated_at)
			VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (request_id) DO NOTHING`),
			key, method, fp, c.id, now, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return s.addSubjects(ctx, tx, key, now, subjects)
		}

		var r keyRow
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT fingerprint, state, response, claim_id, created_at, updated_at
			FROM idempotency_keys WHERE request_id = ?`), key).
			Scan(&r.fingerprint, &r.state, &r.response, &r.claimID, &r.createdAt, &r.updatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return s.errInProgress(key) // purged or released just now; a retry inserts it afresh
		}
		if err != nil {
			return err
		}
		switch {
		case now-r.createdAt >= s.retention.Nanoseconds():
			// The key has expired but was not purged yet: start afresh.
			return s.restart(ctx, tx, c, r, method, fp, subjects, now)
		case r.state == stateForgotten:
			return s.errForgotten(key)
		case string(r.fingerprint) != string(fp):
			return s.errKeyReused(key)
		case r.state == stateDone:
			reply, err = decodeResponse(r.response)
			return err
		case now-r.updatedAt < ClaimTimeout.Nanoseconds():
			return s.errInProgress(key)
		default:
			// The claimant's heartbeat stopped (it died): take over.
			return s.takeOver(ctx, tx, c, r, now)
		}
	})
	if err != nil {
		if _, ok := status.FromError(err); !ok {
			err = status.Error(codes.Internal, "idempotency: key store unavailable")
		}
		return claim{}, nil, err
	}
	return c, reply, nil
}

// restart claims an expired key for a new call: the row is reset in one
// write guarded by what begin read, and its old subjects are replaced.
func (s *Store) restart(ctx context.Context, tx *sql.Tx, c claim, r keyRow, method string, fp []byte, subjects [][]byte, now int64) error {
	res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys
		SET method = ?, fingerprint = ?, state = 'pending', response = NULL, claim_id = ?, created_at = ?, updated_at = ?
		WHERE request_id = ? AND claim_id = ? AND created_at = ? AND updated_at = ?`),
		method, fp, c.id, now, now, c.key, r.claimID, r.createdAt, r.updatedAt)
	if err := s.claimed(res, err, c.key); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_subjects WHERE request_id = ?`), c.key); err != nil {
		return err
	}
	return s.addSubjects(ctx, tx, c.key, now, subjects)
}

// takeOver moves a pending key whose heartbeat timed out to claim c, in
// one write guarded by the claim and heartbeat begin read: if the old
// claimant refreshed in between, or another retry took it first, nothing
// changes and the call is still in progress.
func (s *Store) takeOver(ctx context.Context, tx *sql.Tx, c claim, r keyRow, now int64) error {
	res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys SET claim_id = ?, updated_at = ?
		WHERE request_id = ? AND state = 'pending' AND claim_id = ? AND updated_at = ?`),
		c.id, now, c.key, r.claimID, r.updatedAt)
	return s.claimed(res, err, c.key)
}

// claimed checks that a guarded takeover updated the row: when it did not,
// a concurrent call took the key first.
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

func decodeResponse(b []byte) (proto.Message, error) {
	var a anypb.Any
	if err := proto.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("idempotency: decode stored response: %w", err)
	}
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, fmt.Errorf("idempotency: decode stored response: %w", err)
	}
	return m, nil
}

// keepAlive refreshes c's heartbeat every HeartbeatInterval until the
// returned stop is called; stop returns once no refresh is running. It
// gives up when the claim is no longer c's (taken over or forgotten).
func (s *Store) keepAlive(ctx context.Context, c claim) (stop func()) {
	tick, stopTicker := s.ticker(HeartbeatInterval)
	ctx = context.WithoutCancel(ctx) // the handler may outlive its caller
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		defer stopTicker()
		for {
			select {
			case <-done:
				return
			case <-tick:
				lost := s.refresh(ctx, c)
				if s.refreshed != nil {
					s.refreshed <- struct{}{}
				}
				if lost {
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// refresh sets c's heartbeat to now and reports whether the claim is lost.
// A failed write is retried at the next tick.
func (s *Store) refresh(ctx context.Context, c claim) (lost bool) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys SET updated_at = ?
			WHERE request_id = ? AND state = 'pending' AND claim_id = ?`), s.now().UnixNano(), c.key, c.id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		lost = err == nil && n == 0
		return err
	})
	return err == nil && lost
}

// complete stores the response of a successful call, unless the claim was
// lost: then nothing is written.
func (s *Store) complete(ctx context.Context, c claim, resp proto.Message) error {
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
			WHERE request_id = ? AND state = 'pending' AND claim_id = ?`),
			b, s.now().UnixNano(), c.key, c.id)
		return err
	})
}

// release deletes the key of a failed call, with its subjects, so it can
// be retried: a failed call had no effect, so even a forgotten key is
// released.
func (s *Store) release(ctx context.Context, c claim) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_keys
			WHERE request_id = ? AND state IN ('pending', 'forgotten') AND claim_id = ?`), c.key, c.id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_subjects WHERE request_id = ?`), c.key)
		return err
	})
}
