package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// testAudienceChanges records recomputes' audience changes and lists them
// by operation, audience, kind and position; checks the guard against
// changes computed from a stale recompute, forgetting deleted and erased
// customers, and the retention.
func testAudienceChanges(t *testing.T, s Store) {
	mustApply(t, s, 2, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "c1"},
		segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "c2"}, segmentation.Mutation{Kind: segmentation.MutationUpsert, ID: "c3"})
	gen, err := s.ResultsGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entered := func(aud, id string) segmentation.AudienceChange {
		return segmentation.AudienceChange{Audience: aud, CustomerID: id, Entered: true}
	}
	left := func(aud, id string) segmentation.AudienceChange {
		return segmentation.AudienceChange{Audience: aud, CustomerID: id}
	}
	finish := func(o segmentation.Operation, since string, changes ...segmentation.AudienceChange) error {
		t.Helper()
		if err := s.StartOperation(ctx, o); err != nil {
			t.Fatal(err)
		}
		o.EndTime = o.CreateTime.Add(time.Minute)
		err := s.FinishOperation(ctx, o, segmentation.ResultSet{Generation: gen, Changes: changes, ChangesSince: since})
		if err != nil {
			if ferr := s.FailOperation(ctx, o.ID, "test", o.EndTime); ferr != nil {
				t.Fatal(ferr)
			}
		}
		return err
	}
	list := func(q segmentation.AudienceChangeQuery) []string {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		got, err := s.ListAudienceChanges(ctx, q)
		if err != nil {
			t.Fatalf("ListAudienceChanges(%+v): %v", q, err)
		}
		out := make([]string, len(got))
		for i, c := range got {
			out[i] = fmt.Sprintf("%s %s %s %v", c.Operation, c.Audience, c.CustomerID, c.Entered)
		}
		return out
	}
	// The first recompute is the baseline: nothing recorded.
	if err := finish(op("000", t0), "", entered("tiers/vip", "c1")); err != nil {
		t.Fatal(err)
	}
	if got := list(segmentation.AudienceChangeQuery{}); len(got) != 0 {
		t.Errorf("baseline recorded %v, want nothing", got)
	}
	if err := finish(op("001", t0), "000", entered("tiers/vip", "c2"), left("tiers/vip", "c1"),
		entered("stages/dormant", "c1"), entered("tiers/vip", "c3")); err != nil {
		t.Fatal(err)
	}
	// Changes against a recompute that is not the latest are refused.
	if err := finish(op("002", t0), "000", entered("tiers/vip", "c3")); err == nil {
		t.Error("FinishOperation with changes since a stale recompute succeeded")
	}
	if err := finish(op("003", t0), "001", left("tiers/vip", "c3"), entered("tiers/regular", "c3")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    segmentation.AudienceChangeQuery
		want []string
	}{
		{"all", segmentation.AudienceChangeQuery{}, []string{"001 stages/dormant c1 true", "001 tiers/vip c1 false",
			"001 tiers/vip c2 true", "001 tiers/vip c3 true", "003 tiers/regular c3 true", "003 tiers/vip c3 false"}},
		{"one operation", segmentation.AudienceChangeQuery{Operation: "003"}, []string{"003 tiers/regular c3 true", "003 tiers/vip c3 false"}},
		{"after an operation", segmentation.AudienceChangeQuery{AfterOperation: "001"}, []string{"003 tiers/regular c3 true", "003 tiers/vip c3 false"}},
		{"audiences", segmentation.AudienceChangeQuery{Audiences: []string{"tiers/vip", "tiers/regular"}, Operation: "001"},
			[]string{"001 tiers/vip c1 false", "001 tiers/vip c2 true", "001 tiers/vip c3 true"}},
		{"entered", segmentation.AudienceChangeQuery{Kind: segmentation.ChangesEntered, Audiences: []string{"tiers/vip"}},
			[]string{"001 tiers/vip c2 true", "001 tiers/vip c3 true"}},
		{"left", segmentation.AudienceChangeQuery{Kind: segmentation.ChangesLeft}, []string{"001 tiers/vip c1 false", "003 tiers/vip c3 false"}},
		{"after a position", segmentation.AudienceChangeQuery{After: segmentation.AudienceChange{Operation: "001", Audience: "tiers/vip", CustomerID: "c2"}, Limit: 2},
			[]string{"001 tiers/vip c3 true", "003 tiers/regular c3 true"}},
	}
	for _, tt := range tests {
		if got := list(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}

	// Deleting and erasing customers forgets their changes.
	mustApply(t, s, 4, segmentation.Mutation{Kind: segmentation.MutationDelete, ID: "c1"},
		segmentation.Mutation{Kind: segmentation.MutationRekey, ID: "c2", NewID: "anon-2"})
	want := []string{"001 tiers/vip c3 true", "003 tiers/regular c3 true", "003 tiers/vip c3 false"}
	if got := list(segmentation.AudienceChangeQuery{}); !slices.Equal(got, want) {
		t.Errorf("after deleting c1 and erasing c2: got %q, want %q", got, want)
	}

	// A recompute whose inputs predate a deletion drops the deleted
	// customer's changes; one 31 days later drops the changes of
	// recomputes created over 30 days (the default retention) before.
	if err := finish(op("004", t0), "003", entered("tiers/vip", "c1"), entered("stages/new", "c3")); err != nil {
		t.Fatal(err)
	}
	if got, want := list(segmentation.AudienceChangeQuery{Operation: "004"}), []string{"004 stages/new c3 true"}; !slices.Equal(got, want) {
		t.Errorf("changes of a recompute that ran while c1 was deleted: got %q, want %q", got, want)
	}
	gen, err = s.ResultsGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := finish(op("005", t0.Add(31*24*time.Hour)), "004", left("stages/new", "c3")); err != nil {
		t.Fatal(err)
	}
	if got, want := list(segmentation.AudienceChangeQuery{}), []string{"005 stages/new c3 false"}; !slices.Equal(got, want) {
		t.Errorf("after the retention: got %q, want %q", got, want)
	}
}
