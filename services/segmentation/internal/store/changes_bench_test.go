package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// BenchmarkFinishWithAudienceChanges times FinishOperation storing 174,000
// audience changes (what a recompute after 1% of a million customers
// ordered recorded in the recompute benchmark) and no result rows, so the
// time is the changes' own.
func BenchmarkFinishWithAudienceChanges(b *testing.B) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) *sqlstore.DB
	}{{"sqlite", sqlstoretest.SQLite}, {"postgres", sqlstoretest.Postgres}} {
		b.Run(eng.name, func(b *testing.B) {
			ctx := context.Background()
			s := migrated(b, eng.open(b))
			auds := []string{"tiers/vip", "tiers/regular", "stages/active", "stages/dormant", "rfmSegments/loyal", "segments/rule-01"}
			// In the order the engine gives them: by audience, then customer.
			changes := make([]segmentation.AudienceChange, 0, 174_000)
			for _, a := range auds {
				for i := range 174_000 / len(auds) {
					changes = append(changes, segmentation.AudienceChange{Audience: a, CustomerID: fmt.Sprintf("cust-%08d", i*37), Entered: i%2 == 0})
				}
			}
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			prev := ""
			finish := func(i int, rs segmentation.ResultSet) {
				id := fmt.Sprintf("%03d", i)
				op := segmentation.Operation{ID: id, AsOf: at, SettingsVersion: 1, CreateTime: at, EndTime: at}
				if err := s.StartOperation(ctx, op); err != nil {
					b.Fatal(err)
				}
				rs.ChangesSince = prev
				if err := s.FinishOperation(ctx, op, rs); err != nil {
					b.Fatal(err)
				}
				prev = id
			}
			finish(0, segmentation.ResultSet{})
			i := 1
			for b.Loop() {
				finish(i, segmentation.ResultSet{Changes: changes})
				i++
			}
			b.ReportMetric(float64(len(changes)), "changes")
		})
	}
}
