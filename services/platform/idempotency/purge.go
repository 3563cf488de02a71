package idempotency

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"
)

// purgeBatch is the most rows one Purge transaction deletes, so purging
// never holds long locks.
const purgeBatch = 500

// Purge deletes keys created before before, with their subjects, in
// batches of a few hundred per transaction, and returns how many keys it
// deleted. Several replicas may purge at once.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	keys, err := s.purgeTable(ctx, `DELETE FROM idempotency_keys WHERE request_id IN
		(SELECT request_id FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, before)
	if err != nil {
		return keys, fmt.Errorf("idempotency: purge keys: %w", err)
	}
	if _, err := s.purgeTable(ctx, `DELETE FROM idempotency_subjects WHERE (subject, request_id) IN
		(SELECT subject, request_id FROM idempotency_subjects WHERE created_at < ? LIMIT ?)`, before); err != nil {
		return keys, fmt.Errorf("idempotency: purge subjects: %w", err)
	}
	return keys, nil
}

// purgeTable runs the batched delete query until a batch deletes fewer
// than purgeBatch rows, and returns the rows deleted.
func (s *Store) purgeTable(ctx context.Context, query string, before time.Time) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, s.db.Rebind(query), before.UnixNano(), purgeBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
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
