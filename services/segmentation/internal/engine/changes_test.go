package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/engine"
	"github.com/tenurehq/tenure/services/segmentation/internal/rules"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// TestAudienceChanges runs recomputes on two replicas sharing a store: the
// first is the baseline, and the second replica, whose snapshot is older
// than the stored results, records the changes against the latest ones.
func TestAudienceChanges(t *testing.T) {
	ctx := context.Background()
	st := store.New(sqlstoretest.SQLite(t))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	order := func(cursor int64, id string, at time.Time) {
		t.Helper()
		if err := st.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationUpsert, ID: id, Features: &segmentation.Features{
			OrderCount: 1, FirstOrderTime: at, LastOrderTime: at, NetMinor: 100, Currency: "GBP"}}}, cursor, nil); err != nil {
			t.Fatal(err)
		}
	}
	env, err := rules.NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	replica := func() *engine.Engine {
		e := engine.New(engine.Config{Store: st, Settings: segmentation.SettingsSource{Store: st}, Rules: env, Logger: quiet})
		t.Cleanup(e.Close)
		return e
	}
	first, second := replica(), replica()
	recompute := func(e *engine.Engine, at time.Time) string {
		t.Helper()
		op, err := e.Start(ctx, at, segmentation.TriggerAPI)
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the recompute to finish", func() bool {
			got, err := st.GetOperation(ctx, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Done() && got.State != segmentation.OperationSucceeded {
				t.Fatalf("operation = %+v", got)
			}
			return got.Done()
		})
		return op.ID
	}
	stages := func(opID string) []string {
		t.Helper()
		got, err := st.ListAudienceChanges(ctx, segmentation.AudienceChangeQuery{Operation: opID, Limit: 100,
			Audiences: []string{"stages/new", "stages/active", "stages/dormant"}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range got {
			out = append(out, fmt.Sprintf("%s %s %v", c.Audience, c.CustomerID, c.Entered))
		}
		return out
	}

	order(1, "a", asOf.Add(-day))
	base := recompute(first, asOf)
	if got := stages(base); len(got) != 0 {
		t.Errorf("baseline recorded %q, want nothing", got)
	}
	order(2, "b", asOf.Add(99*day))
	next := recompute(second, asOf.Add(100*day))
	want := []string{"stages/dormant a true", "stages/new a false", "stages/new b true"}
	if got := stages(next); !slices.Equal(got, want) {
		t.Errorf("second recompute: got %q, want %q", got, want)
	}
	// Nothing moved: nothing recorded.
	again := recompute(first, asOf.Add(100*day))
	if got, err := st.ListAudienceChanges(ctx, segmentation.AudienceChangeQuery{Operation: again, Limit: 10}); err != nil || len(got) != 0 {
		t.Errorf("recompute without changes: got %v, %v; want none", got, err)
	}
}
