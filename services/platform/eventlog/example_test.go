package eventlog_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"github.com/tenurehq/tenure/services/platform/eventlog"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
)

// eventCounts is a service's state derived from the log, with its cursor:
// how many events each customer has. It is the Handler a new service
// writes, over its own database.
type eventCounts struct{ db *sqlstore.DB }

func (c *eventCounts) migrate(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE event_cursor (id INTEGER PRIMARY KEY, sequence BIGINT NOT NULL)`,
		`INSERT INTO event_cursor (id, sequence) VALUES (1, 0)`,
		`CREATE TABLE event_counts (customer_id TEXT PRIMARY KEY, n BIGINT NOT NULL)`,
	} {
		if _, err := c.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Cursor implements eventlog.Handler.
func (c *eventCounts) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	err := c.db.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`).Scan(&seq)
	return seq, err
}

// Apply implements eventlog.Handler: the counts and the cursor change in
// one transaction, which reads the cursor first (locking its row on
// PostgreSQL) and skips the events another replica applied already.
func (c *eventCounts) Apply(ctx context.Context, events []*profilev1.StreamEventsResponse) error {
	lock := ""
	if c.db.Dialect == sqlstore.Postgres {
		lock = " FOR UPDATE"
	}
	return c.db.InTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT sequence FROM event_cursor WHERE id = 1`+lock).Scan(&cur); err != nil {
			return err
		}
		for _, r := range events {
			if e := r.GetEvent(); e.GetSequence() > cur {
				if _, err := tx.ExecContext(ctx, c.db.Rebind(`INSERT INTO event_counts (customer_id, n) VALUES (?, 1)
					ON CONFLICT (customer_id) DO UPDATE SET n = event_counts.n + 1`), e.GetCustomerId()); err != nil {
					return err
				}
			}
		}
		last := events[len(events)-1].GetEvent().GetSequence()
		_, err := tx.ExecContext(ctx, c.db.Rebind(`UPDATE event_cursor SET sequence = ? WHERE id = 1 AND sequence < ?`), last, last)
		return err
	})
}

// A service consumes profile's log into its own database: it runs a
// Consumer over its Handler and, before work that must see everything
// logged so far, waits for it to catch up.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	profile, client, stop := startLogServer() // stands in for the profile service
	defer stop()
	profile.append(10)

	dir, err := os.MkdirTemp("", "eventlog-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(dir, "counts.db"))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	counts := &eventCounts{db: db}
	if err := counts.migrate(ctx); err != nil {
		panic(err)
	}

	cons, err := eventlog.New(eventlog.Config{Client: client, Handler: counts})
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := eventlog.WaitCaughtUp(wctx, client, counts, 10*time.Millisecond); err != nil {
		panic(err)
	}
	cancel()
	if err := <-done; err != nil {
		panic(err)
	}

	cursor, _ := counts.Cursor(context.Background())
	fmt.Println("cursor:", cursor)
	rows, err := db.QueryContext(context.Background(), `SELECT customer_id, n FROM event_counts ORDER BY customer_id`)
	if err != nil {
		panic(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d\n", id, n)
	}
	// Output:
	// cursor: 10
	// c0: 1
	// c1: 2
	// c2: 2
	// c3: 2
	// c4: 1
	// c5: 1
	// c6: 1
}
