package storetest

import (
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// testActionLimitsAcrossPages: the daily share limit holds across pages
// (the counts read with the page) and within one, for members created in
// the page and before it.
func testActionLimitsAcrossPages(t *testing.T, s, _ loyalty.Store) {
	svc := service(s, &clock{t: t0.Add(72 * time.Hour)})
	programme(t, svc, func(p *loyalty.Programme) { p.SharePoints, p.ShareDailyLimit, p.CheckInPoints = 5, 2, 3 })
	share := func(seq int64, c string, at time.Time) loyalty.Event {
		return loyalty.Event{Sequence: seq, EventID: "s" + c + string(rune('a'+seq)), CustomerID: c, OccurredAt: at,
			Kind: loyalty.EventContentShared}
	}
	checkIn := func(seq int64, c string, at time.Time) loyalty.Event {
		return loyalty.Event{Sequence: seq, EventID: "k" + c + string(rune('a'+seq)), CustomerID: c, OccurredAt: at,
			Kind: loyalty.EventCheckedIn}
	}
	pages := [][]loyalty.Event{
		{share(1, "c1", t0), checkIn(2, "c1", t0), order(3, "c2", "o1", t0, 1000)},
		{share(4, "c1", t0.Add(time.Hour)), share(5, "c1", t0.Add(2*time.Hour)), checkIn(6, "c1", t0.Add(time.Hour)),
			share(7, "c2", t0), share(8, "c2", t0), share(9, "c2", t0), share(10, "c3", t0), share(11, "c3", t0),
			share(12, "c3", t0)},
		{share(13, "c1", t0.Add(3*time.Hour)), share(14, "c1", t0.Add(24*time.Hour)), checkIn(15, "c1", t0.Add(24*time.Hour)),
			share(16, "c2", t0.Add(time.Hour))},
	}
	for _, p := range pages {
		if err := svc.ApplyEvents(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// c1: two shares and one check-in on day one, a share and a check-in
	// on day two; c2: its order and two shares; c3 (new in the page): two.
	for id, want := range map[string]int64{"c1": 2*5 + 3 + 5 + 3, "c2": 10 + 2*5, "c3": 2 * 5} {
		if got := must(svc.GetMember(ctx, id))(t).Available; got != want {
			t.Errorf("%s: got %d points, want %d", id, got, want)
		}
	}
}
