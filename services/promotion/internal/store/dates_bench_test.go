package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// benchCustomers is how many customers BenchmarkHolidayJourney schedules.
const benchCustomers = 1_000_000

// BenchmarkHolidayJourney schedules a holiday journey for a million
// customers known to the store, in five time zones: one DateTriggers run
// reads them in pages and creates a million messages, each due at 10:00 on
// the holiday in its customer's zone. Run it with -benchtime=1x; it
// reports the run's seconds and messages per second.
func BenchmarkHolidayJourney(b *testing.B) {
	sqlstoretest.BenchEngines(b, func(b *testing.B, open func() *sqlstore.DB) {
		ctx := context.Background()
		db := open()
		s := store.New(db)
		if err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		if err := insertCustomers(ctx, db, benchCustomers); err != nil {
			b.Fatal(err)
		}
		holiday := outreach.Holiday{Name: "New Year", Date: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
		d := outreach.JourneyDef{Journey: outreach.Journey{ID: "new-year", Channels: []outreach.Channel{outreach.ChannelEmail},
			Trigger: outreach.Trigger{Kind: outreach.TriggerHoliday, LocalMinute: 600, Holidays: []outreach.Holiday{holiday}}},
			CreateTime: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), State: outreach.JourneyActive}
		if err := s.CreateJourney(ctx, d); err != nil {
			b.Fatal(err)
		}
		var total time.Duration
		for b.Loop() {
			b.StopTimer()
			if _, err := db.ExecContext(ctx, `DELETE FROM outreach_outbox`); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM outreach_messages`); err != nil {
				b.Fatal(err)
			}
			if err := s.SetTriggerCursor(ctx, outreach.DateCursor(d.ID), ""); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			// The run on the morning before the holiday covers its start
			// in the easternmost zone.
			tr := outreach.DateTriggers{Ahead: 24 * time.Hour, TriggerEnv: outreach.TriggerEnv{Journeys: s, Customers: s, Messages: s,
				Cursors: s, Zone: time.UTC, Clock: func() time.Time { return time.Date(2026, 12, 31, 6, 0, 0, 0, time.UTC) }}}
			start := time.Now()
			n, err := tr.RunOnce(ctx)
			total += time.Since(start)
			if err != nil || n != benchCustomers {
				b.Fatalf("created %d messages, %v; want %d", n, err, benchCustomers)
			}
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
		b.ReportMetric(float64(benchCustomers*b.N)/total.Seconds(), "msgs/s")
	})
}

// insertCustomers stores n customers in five zones, 1,000 per statement.
func insertCustomers(ctx context.Context, db *sqlstore.DB, n int) error {
	zones := []string{"Europe/London", "Asia/Tokyo", "America/New_York", "Australia/Sydney", ""}
	const rows = 1000
	for start := 0; start < n; start += rows {
		var q strings.Builder
		q.WriteString(`INSERT INTO outreach_customers (customer_id, birth_md, time_zone) VALUES `)
		args := make([]any, 0, 3*rows)
		for i := start; i < min(start+rows, n); i++ {
			if i > start {
				q.WriteString(",")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, fmt.Sprintf("c%07d", i), 100*(1+i%12)+1+i%28, zones[i%len(zones)])
		}
		if _, err := db.ExecContext(ctx, db.Rebind(q.String()), args...); err != nil {
			return err
		}
	}
	return nil
}
