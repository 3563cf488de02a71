package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/outreach"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
)

// changeList is a ChangeSource over a fixed list of changes.
type changeList []outreach.AudienceChange

func (l changeList) Changes(_ context.Context, after string, _ []string, _ string) ([]outreach.AudienceChange, string, error) {
	var out []outreach.AudienceChange
	for _, c := range l {
		if c.Operation > after {
			out = append(out, c)
		}
	}
	return out, "", nil
}

// TestTriggersSkipPausedAndDeletedJourneys runs the audience triggers over
// the store: a paused or deleted journey makes no message, and a resumed
// one makes messages for the changes after it resumed.
func TestTriggersSkipPausedAndDeletedJourneys(t *testing.T) {
	engines(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clock := func() time.Time { return t0 }
		j := outreach.Journeys{Store: s, Clock: clock}
		for _, id := range []string{"active", "paused", "deleted"} {
			if _, err := j.Create(ctx, smsJourney(id)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := j.Pause(ctx, "paused", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := j.Delete(ctx, "deleted", ""); err != nil {
			t.Fatal(err)
		}
		changes := changeList{{Operation: "op1", Audience: "stages/new", CustomerID: "c1", Entered: true, At: t0}}
		run := func() int {
			t.Helper()
			n, err := (&outreach.AudienceTriggers{Journeys: s, Changes: changes, Messages: s, Cursors: s, Clock: clock}).RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := run(); n != 1 {
			t.Fatalf("first run created %d messages, want 1 (the active journey's)", n)
		}
		if _, err := s.GetMessage(ctx, outreach.MessageID("active", "c1", outreach.AudienceOccurrence("op1"))); err != nil {
			t.Errorf("the active journey's message: %v", err)
		}
		if _, err := j.Resume(ctx, "paused", ""); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, outreach.AudienceChange{Operation: "op2", Audience: "stages/new", CustomerID: "c2", Entered: true, At: t0})
		if n := run(); n != 2 {
			t.Errorf("run after resuming created %d messages, want 2 (active and resumed, for op2 only)", n)
		}
	})
}
