package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// customerFold collects one customer's accepted events of a batch.
type customerFold struct {
	id       string
	events   []int // indexes into the batch, in input order
	features profile.Features
	found    bool // the customer row is locked and its features loaded
	created  bool // this transaction inserted the customer row
}

// A customer row with revision 0 exists only inside the transaction that
// created it as provisional: the same transaction writes its features
// (revision 1) or deletes it again. So a locked row at revision 0 is one
// this transaction created.
const provisionalRevision = 0

// appendBatch is the batch of one AppendEvents call.
type appendBatch struct {
	events          []profile.Event
	kinds, payloads []string // encoded payloads, by event
	results         []profile.AppendResult
	// assumeNew skips the lookup of duplicates where the insert fails on
	// them anyway (PostgreSQL): the first attempt of AppendEvents.
	assumeNew bool
}

// batchWriter is the engine-specific part of AppendEvents: each method is
// one set-oriented step over the whole batch. In a pipelined transaction
// the steps are only queued; their results are there after tx.Flush (see
// sqlstore.Tx).
type batchWriter interface {
	// insertProvisional creates the customers of ids (sorted) that do not
	// exist, in StateProvisional with provisionalRevision (the feature
	// write makes it 1).
	insertProvisional(ctx context.Context, tx *sqlstore.Tx, ids []string, times []int64) error
	// lockFeatures locks the rows of the customers of ids (sorted) that
	// exist, in id order, and sets their features, found and created.
	lockFeatures(ctx context.Context, tx *sqlstore.Tx, ids []string, byID map[string]*customerFold) error
	// markDuplicates sets Duplicate in the results of the events whose id
	// is in the log already, or, if b.assumeNew and a duplicate fails
	// insertEvents, may do nothing. (SQLite learns about duplicates by
	// inserting the events, and sets the sequences of the others too.)
	markDuplicates(ctx context.Context, tx *sqlstore.Tx, b *appendBatch) error
	// insertEvents inserts the events not marked duplicate that are not
	// inserted yet and sets their sequences.
	insertEvents(ctx context.Context, tx *sqlstore.Tx, b *appendBatch) error
	// writeFeatures stores features, sets update_time and increments
	// revision of each customer.
	writeFeatures(ctx context.Context, tx *sqlstore.Tx, ids, features []string, times []int64) error
}

func (s *Store) batchWriter() batchWriter {
	if s.db.Dialect == sqlstore.Postgres {
		return postgresBatch{}
	}
	return sqliteBatch{db: s.db}
}

// appendAttempts bounds how often AppendEvents runs its transaction when
// its insert fails on the unique event id: on the first attempt, which
// assumes every event is new (most batches are not re-sent), when an
// event is a duplicate; on later attempts, which look the ids up first,
// when an event id is appended meanwhile by a batch for other customers.
const appendAttempts = 3

// AppendEvents implements profile.Store. The whole batch is one
// transaction: lock the rows of the batch's customers in id order and
// read their features, find the duplicate event ids (markDuplicates),
// create and lock the missing customers as provisional, fold the other
// events in memory, insert them (see announceInsert), write each
// customer's features back once, and delete the customers it created that
// got no event. On PostgreSQL that is two round trips when the customers
// exist (sqlstore.Tx). Batches of different customers run in parallel on
// PostgreSQL; batches that share a customer wait for each other's row.
func (s *Store) AppendEvents(ctx context.Context, events []profile.Event, fold profile.FoldFunc) ([]profile.AppendResult, error) {
	if len(events) == 0 {
		return nil, nil
	}
	b := &appendBatch{
		events:   events,
		kinds:    make([]string, len(events)),
		payloads: make([]string, len(events)),
		results:  make([]profile.AppendResult, len(events)),
	}
	for i, e := range events {
		kind, payload, err := encodePayload(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("store: event %s: %w", e.ID, err)
		}
		b.kinds[i], b.payloads[i] = kind, payload
	}
	var err error
	for attempt := 1; ; attempt++ {
		b.assumeNew = attempt == 1
		err = s.db.InPipelinedTx(ctx, func(tx *sqlstore.Tx) error { return s.appendTx(ctx, tx, b, fold) })
		if err == nil || attempt == appendAttempts || !s.db.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return b.results, nil
}

// appendTx is the transaction of AppendEvents.
func (s *Store) appendTx(ctx context.Context, tx *sqlstore.Tx, b *appendBatch, fold profile.FoldFunc) error {
	clear(b.results)
	w := s.batchWriter()
	ids, byID, err := lockCustomers(ctx, tx, w, b)
	if err != nil {
		return err
	}
	for i, e := range b.events {
		if !b.results[i].Duplicate {
			cf := byID[e.CustomerID]
			cf.events = append(cf.events, i)
		}
	}
	if err := w.insertEvents(ctx, tx, b); err != nil {
		return err
	}
	return s.foldCustomers(ctx, tx, w, b.events, ids, byID, fold)
}

// lockCustomers locks the rows of the batch's customers in id order, loads
// their features and marks the duplicate events, then creates the missing
// customers as provisional and locks those (so a batch whose customers
// exist creates none). It returns the sorted ids. A customer deleted or
// erased between the insert that found it and the lock is created again.
func lockCustomers(ctx context.Context, tx *sqlstore.Tx, w batchWriter, b *appendBatch) ([]string, map[string]*customerFold, error) {
	byID := map[string]*customerFold{}
	times := map[string]int64{}
	var ids []string
	for _, e := range b.events {
		if byID[e.CustomerID] == nil {
			byID[e.CustomerID] = &customerFold{id: e.CustomerID}
			times[e.CustomerID] = nanos(e.RecordTime)
			ids = append(ids, e.CustomerID)
		}
	}
	slices.Sort(ids)
	if err := w.lockFeatures(ctx, tx, ids, byID); err != nil {
		return nil, nil, err
	}
	if err := w.markDuplicates(ctx, tx, b); err != nil {
		return nil, nil, err
	}
	for missing := ids; ; {
		if err := tx.Flush(ctx); err != nil {
			return nil, nil, err
		}
		missing = slices.DeleteFunc(slices.Clone(missing), func(id string) bool { return byID[id].found })
		if len(missing) == 0 {
			return ids, byID, nil
		}
		missingTimes := make([]int64, len(missing))
		for i, id := range missing {
			missingTimes[i] = times[id]
		}
		if err := w.insertProvisional(ctx, tx, missing, missingTimes); err != nil {
			return nil, nil, err
		}
		if err := w.lockFeatures(ctx, tx, missing, byID); err != nil {
			return nil, nil, err
		}
	}
}

// foldCustomers folds each customer's accepted events into its features
// and writes them, and deletes the customers lockCustomers created that
// got no event (every event of theirs was a duplicate).
func (s *Store) foldCustomers(ctx context.Context, tx *sqlstore.Tx, w batchWriter, events []profile.Event, ids []string, byID map[string]*customerFold, fold profile.FoldFunc) error {
	var (
		written, features []string
		times             []int64
	)
	for _, id := range ids {
		cf := byID[id]
		if len(cf.events) == 0 {
			if cf.created {
				if err := tx.Exec(ctx, s.db.Rebind(`DELETE FROM customers WHERE customer_id = ?`), id); err != nil {
					return fmt.Errorf("store: remove unused provisional customer %s: %w", id, err)
				}
			}
			continue
		}
		for _, j := range cf.events {
			fold(&cf.features, events[j])
		}
		f, err := encodeFeatures(cf.features)
		if err != nil {
			return fmt.Errorf("store: features of %s: %w", id, err)
		}
		written = append(written, id)
		features = append(features, f)
		times = append(times, nanos(events[cf.events[len(cf.events)-1]].RecordTime))
	}
	if len(written) == 0 {
		return nil
	}
	return w.writeFeatures(ctx, tx, written, features, times)
}

// lockedColumns are the columns lockFeatures reads, for scanFeatures.
const lockedColumns = `customer_id, features, revision`

// scanFeatures reads lockedColumns rows into byID.
func scanFeatures(rows sqlstore.Rows, byID map[string]*customerFold) error {
	for rows.Next() {
		var (
			id, features string
			revision     int64
		)
		if err := rows.Scan(&id, &features, &revision); err != nil {
			return fmt.Errorf("store: load features: %w", err)
		}
		if cf := byID[id]; cf != nil {
			if err := decodeFeatures(cf, features); err != nil {
				return err
			}
			cf.created = revision == provisionalRevision
		}
	}
	return rows.Err()
}

func decodeFeatures(cf *customerFold, data string) error {
	f, err := parseFeatures(data)
	if err != nil {
		return fmt.Errorf("store: decode features of %s: %w", cf.id, err)
	}
	cf.features = f
	cf.found = true
	return nil
}
