package loyalty

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * day }

// bucketAccount returns an account with one bucket per credit, numbered
// from 1, created through the rules.
func bucketAccount(credits ...Credit) *Account {
	a := NewAccount(Member{ID: "m", Enrolled: true, Tier: "base"}, nil)
	for _, c := range credits {
		c.Type = EntryEarn
		a.credit(c, 1)
	}
	return a
}

func remaining(a *Account) []int64 {
	var out []int64
	for _, b := range a.Buckets {
		out = append(out, b.Remaining)
	}
	return out
}

func TestDebitSpendsTheFirstToExpire(t *testing.T) {
	tests := []struct {
		name    string
		credits []Credit
		spend   int64
		want    []int64
	}{
		{"oldest expiry first", []Credit{
			{Points: 10, At: t0, ExpiresAt: t0.Add(days(300))},
			{Points: 10, At: t0, ExpiresAt: t0.Add(days(100))},
		}, 15, []int64{5, 0}},
		{"never-expiring last", []Credit{
			{Points: 10, At: t0},
			{Points: 10, At: t0, ExpiresAt: t0.Add(days(100))},
		}, 12, []int64{8, 0}},
		{"ties: earned first", []Credit{
			{Points: 10, At: t0.Add(days(1))},
			{Points: 10, At: t0},
		}, 12, []int64{8, 0}},
		{"pending points are not spent", []Credit{
			{Points: 10, At: t0, AvailableAt: t0.Add(days(30))},
			{Points: 10, At: t0},
		}, 10, []int64{10, 0}},
		{"expired points are not spent", []Credit{
			{Points: 10, At: t0, ExpiresAt: t0.Add(days(5))},
			{Points: 10, At: t0},
		}, 10, []int64{10, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := bucketAccount(tt.credits...)
			e, err := a.Debit(EntryRedeem, tt.spend, t0.Add(days(10)), Source{OrderID: "o"}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got := remaining(a); !slices.Equal(got, tt.want) || e.Points != -tt.spend {
				t.Fatalf("remaining = %v, entry %d; want %v, %d", got, e.Points, tt.want, -tt.spend)
			}
		})
	}
}

func TestDebitNeedsAvailablePoints(t *testing.T) {
	a := bucketAccount(Credit{Points: 10, At: t0}, Credit{Points: 50, At: t0, AvailableAt: t0.Add(days(30))})
	_, err := a.Debit(EntryRedeem, 11, t0.Add(days(1)), Source{}, 1)
	var ie *InsufficientError
	if !errors.As(err, &ie) || !errors.Is(err, ErrInsufficientPoints) || ie.Available != 10 {
		t.Fatalf("err = %v, want insufficient with 10 available (pending do not count)", err)
	}
	if got := remaining(a); !slices.Equal(got, []int64{10, 50}) || a.Member.Seq != 2 {
		t.Fatalf("a failed debit changed the account: %v, seq %d", got, a.Member.Seq)
	}
	if a.Available(t0.Add(days(1))) != 10 || a.Pending(t0.Add(days(1))) != 50 || a.Available(t0.Add(days(30))) != 60 {
		t.Fatal("pending points become available at their time")
	}
}

func TestReverse(t *testing.T) {
	tests := []struct {
		name            string
		credits         []Credit
		points          int64
		order           string
		want            []int64
		wantUnrecovered int64
	}{
		{"from the order's own bucket first, even pending", []Credit{
			{Points: 20, At: t0},
			{Points: 30, At: t0, AvailableAt: t0.Add(days(30)), Source: Source{OrderID: "o1"}},
		}, 25, "o1", []int64{20, 5}, 0},
		{"then from the latest to expire", []Credit{
			{Points: 20, At: t0, ExpiresAt: t0.Add(days(100))},
			{Points: 20, At: t0, ExpiresAt: t0.Add(days(200))},
			{Points: 5, At: t0, Source: Source{OrderID: "o1"}},
		}, 15, "o1", []int64{20, 10, 0}, 0},
		{"never-expiring counts as the latest", []Credit{
			{Points: 20, At: t0},
			{Points: 20, At: t0, ExpiresAt: t0.Add(days(200))},
		}, 5, "", []int64{15, 20}, 0},
		{"what cannot be taken is unrecovered", []Credit{
			{Points: 3, At: t0, Source: Source{OrderID: "o1"}},
			{Points: 4, At: t0, AvailableAt: t0.Add(days(90))},
		}, 10, "o1", []int64{0, 4}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := bucketAccount(tt.credits...)
			e := a.Reverse(tt.points, t0.Add(days(1)), Source{OrderID: tt.order}, 1)
			if got := remaining(a); !slices.Equal(got, tt.want) || e.Unrecovered != tt.wantUnrecovered ||
				e.Points != -(tt.points-tt.wantUnrecovered) {
				t.Fatalf("remaining = %v, entry %+v; want %v, unrecovered %d", got, e, tt.want, tt.wantUnrecovered)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	a := bucketAccount(
		Credit{Points: 10, At: t0, ExpiresAt: AddMonths(t0, 1)},
		Credit{Points: 7, At: t0, ExpiresAt: AddMonths(t0, 2)},
		Credit{Points: 5, At: t0},
	)
	due := AddMonths(t0, 1) // 2025-02-28 12:00
	if _, ok := a.Expire(due.Add(-time.Nanosecond), 1); ok {
		t.Fatal("expired before the bucket's time")
	}
	e, ok := a.Expire(due, 1)
	if !ok || e.Points != -10 || !slices.Equal(remaining(a), []int64{0, 7, 5}) {
		t.Fatalf("expire at %s = %+v, %v; remaining %v", due, e, ok, remaining(a))
	}
	if _, ok := a.Expire(due, 1); ok {
		t.Fatal("a second expiry at the same time wrote again")
	}
}

func TestCancelRedemption(t *testing.T) {
	a := bucketAccount(
		Credit{Points: 10, At: t0, ExpiresAt: t0.Add(days(5))},
		Credit{Points: 10, At: t0},
	)
	red, err := a.Debit(EntryRedeem, 15, t0.Add(days(1)), Source{OrderID: "o"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Cancelled after the first bucket expired: its 10 stay expired.
	c, red2, err := a.Cancel(red, t0.Add(days(6)), Source{}, 1)
	if err != nil || c.Points != 5 || c.Unrecovered != 10 || !red2.Cancelled || c.Source.Ref != red.Seq {
		t.Fatalf("cancel = %+v, %v", c, err)
	}
	if !slices.Equal(remaining(a), []int64{0, 10}) {
		t.Fatalf("remaining = %v, want [0 10]", remaining(a))
	}
	if _, _, err := a.Cancel(red2, t0.Add(days(7)), Source{}, 1); !errors.Is(err, ErrRedemptionClosed) {
		t.Fatalf("second cancel: %v", err)
	}
}

// goldProgramme has three tiers: base, silver at 100 and gold at 500.
func goldProgramme() Programme {
	p := DefaultProgramme()
	p.Tiers = []Tier{
		{ID: "base", MultiplierPercent: 100},
		{ID: "silver", QualifyingPoints: 100, MultiplierPercent: 120},
		{ID: "gold", QualifyingPoints: 500, MultiplierPercent: 150},
	}
	p.QualificationWindowDays, p.TierRetentionDays = 365, 180
	return p
}

func order(seq int64, id string, at time.Time, minor int64) Event {
	return Event{Sequence: seq, EventID: "e-" + id, CustomerID: "c", OccurredAt: at, Kind: EventOrderPlaced,
		OrderID: id, Currency: "GBP", HasTotal: true, AmountMinor: minor}
}

func refund(seq int64, id string, at time.Time, minor int64) Event {
	return Event{Sequence: seq, EventID: "r-" + id, CustomerID: "c", OccurredAt: at, Kind: EventOrderRefunded,
		OrderID: id, Currency: "GBP", HasTotal: true, AmountMinor: minor}
}

func apply(t *testing.T, l *memLedger, p Programme, evs ...Event) *Account {
	t.Helper()
	for _, e := range evs {
		if err := (Applier{P: p}).Apply(context.Background(), l, e); err != nil {
			t.Fatal(err)
		}
	}
	return l.accounts["c"]
}

func TestEarnAtTheTierHeld(t *testing.T) {
	l := newMemLedger()
	p := goldProgramme()
	// 600.00 GBP at base earns 600 and reaches gold at once; the next
	// 123.45 GBP earn at 150 %: 185.
	a := apply(t, l, p, order(1, "o1", t0, 60000), order(2, "o2", t0.Add(time.Hour), 12345))
	if a.Member.Tier != "gold" || a.Member.Lifetime != 785 || a.Available(t0.Add(days(1))) != 785 {
		t.Fatalf("tier %s, lifetime %d; want gold, 600+185", a.Member.Tier, a.Member.Lifetime)
	}
	if !a.Member.TierSince.Equal(t0) {
		t.Fatalf("tier since %s, want the time of the order that reached it", a.Member.TierSince)
	}
}

func TestPartialRefundsAreCumulative(t *testing.T) {
	l := newMemLedger()
	a := apply(t, l, goldProgramme(), order(1, "o1", t0, 9000), refund(2, "o1", t0.Add(time.Hour), 2700))
	if got := a.Available(t0.Add(days(1))); got != 63 {
		t.Fatalf("after refunding 2700 of 9000 the order keeps %d, want 63", got)
	}
	a = apply(t, l, goldProgramme(), refund(3, "o1", t0.Add(2*time.Hour), 2700), refund(4, "o1", t0.Add(3*time.Hour), 9999))
	if got := a.Available(t0.Add(days(1))); got != 0 || a.Member.Lifetime != 90 {
		t.Fatalf("after a full refund: available %d, lifetime %d; want 0, 90", got, a.Member.Lifetime)
	}
	var reversed int64
	for _, e := range a.entries {
		if e.Type == EntryReverse {
			reversed -= e.Points
		}
	}
	if reversed != 90 {
		t.Fatalf("reversed %d in total, want 90 (27 + 27 + 36)", reversed)
	}
}

func TestOrdersInAnotherCurrencyAreSkipped(t *testing.T) {
	l := newMemLedger()
	e := order(1, "o1", t0, 10000)
	e.Currency = "EUR"
	a := apply(t, l, goldProgramme(), e)
	if a.Member.Lifetime != 0 || a.Member.SkippedOrders != 1 {
		t.Fatalf("lifetime %d, skipped %d; want 0, 1", a.Member.Lifetime, a.Member.SkippedOrders)
	}
}

func TestExplicitEnrolmentIgnoresNonMembers(t *testing.T) {
	l := newMemLedger()
	p := goldProgramme()
	p.Enrolment = EnrolExplicit
	if a := apply(t, l, p, order(1, "o1", t0, 10000)); a != nil {
		t.Fatalf("a non-member earned: %+v", a.Member)
	}
}

func TestActionsAndDailyLimits(t *testing.T) {
	p := goldProgramme()
	p.SharePoints, p.ShareDailyLimit, p.CheckInPoints = 5, 2, 3
	p.TimeZone = "UTC"
	ev := func(seq int64, kind EventKind, at time.Time) Event {
		return Event{Sequence: seq, CustomerID: "c", OccurredAt: at, Kind: kind}
	}
	l := newMemLedger()
	tokyo := Event{Sequence: 1, CustomerID: "c", OccurredAt: t0, Kind: EventCustomerUpdated, TimeZone: "Asia/Tokyo"}
	// 14:00 and 16:00 UTC on 31 Jan are 23:00 on 31 Jan and 01:00 on 1 Feb in Tokyo: two days.
	a := apply(t, l, p, tokyo,
		ev(2, EventContentShared, t0), ev(3, EventContentShared, t0), ev(4, EventContentShared, t0),
		ev(5, EventCheckedIn, t0.Add(2*time.Hour)), ev(6, EventCheckedIn, t0.Add(2*time.Hour+30*time.Minute)),
		ev(7, EventCheckedIn, t0.Add(4*time.Hour)),
	)
	if want := int64(2*5 + 2*3); a.Member.Lifetime != want {
		t.Fatalf("lifetime %d, want %d (2 shares of 3, check-ins on two Tokyo days)", a.Member.Lifetime, want)
	}
}

func TestBirthdayPoints(t *testing.T) {
	p := goldProgramme()
	p.BirthdayPoints = 50
	tests := []struct {
		name string
		asOf time.Time
		want bool
	}{
		{"28 Feb in a year without 29 Feb", time.Date(2025, 2, 28, 9, 0, 0, 0, time.UTC), true},
		{"not 28 Feb in a leap year", time.Date(2024, 2, 28, 9, 0, 0, 0, time.UTC), false},
		{"29 Feb in a leap year", time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC), true},
		{"the member's day, not UTC's", time.Date(2025, 2, 27, 16, 0, 0, 0, time.UTC), true}, // 28 Feb 01:00 in Tokyo
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccount(Member{ID: "c", Enrolled: true, Tier: "base", Birthday: "1992-02-29", TimeZone: "Asia/Tokyo"}, nil)
			ap := Applier{P: p}
			if got := ap.Birthday(a, tt.asOf); got != tt.want {
				t.Fatalf("Birthday = %v, want %v", got, tt.want)
			}
			if tt.want && (ap.Birthday(a, tt.asOf.Add(time.Hour)) || a.Member.Lifetime != 50) {
				t.Fatal("birthday points given twice in one year")
			}
		})
	}
}

func TestPendingPointsDoNotQualify(t *testing.T) {
	p := goldProgramme()
	p.PendingDays = 14
	l := newMemLedger()
	a := apply(t, l, p, order(1, "o1", t0, 20000))
	if a.Member.Tier != "base" || a.Qualifying(t0, p.QualificationWindowDays) != 0 {
		t.Fatalf("pending points qualified: tier %s", a.Member.Tier)
	}
	if !a.Upgrade(p, t0.Add(days(14))) || a.Member.Tier != "silver" {
		t.Fatalf("no upgrade once the points became available: tier %s", a.Member.Tier)
	}
}

func TestEvaluateTiers(t *testing.T) {
	start := t0
	tests := []struct {
		name     string
		policy   DowngradePolicy
		asOf     time.Duration
		wantTier string
	}{
		{"kept through the retention", DowngradeOneDown, days(179), "gold"},
		{"one down after it", DowngradeOneDown, days(370), "silver"},
		{"to the qualified tier after it", DowngradeToQualified, days(370), "base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := goldProgramme()
			p.DowngradePolicy = tt.policy
			l := newMemLedger()
			a := apply(t, l, p, order(1, "o1", start, 60000))
			if a.Member.Tier != "gold" {
				t.Fatalf("tier %s, want gold", a.Member.Tier)
			}
			// The order leaves the window after 365 days; before that, a
			// full refund takes the qualifying points to 0.
			if tt.asOf < days(365) {
				a = apply(t, l, p, refund(2, "o1", start.Add(days(1)), 60000))
			}
			a.Evaluate(p, start.Add(tt.asOf))
			if a.Member.Tier != tt.wantTier {
				t.Fatalf("tier %s, want %s", a.Member.Tier, tt.wantTier)
			}
			before := a.Member
			if a.Evaluate(p, start.Add(tt.asOf)); a.Member != before {
				t.Fatalf("a second evaluation at the same time changed %+v to %+v", before, a.Member)
			}
		})
	}
}

func TestEvaluateRequalifies(t *testing.T) {
	p := goldProgramme()
	l := newMemLedger()
	a := apply(t, l, p, order(1, "o1", t0, 20000), order(2, "o2", t0.Add(days(300)), 20000))
	at := t0.Add(days(310))
	if a.Evaluate(p, at); a.Member.Tier != "silver" || !a.Member.TierSince.Equal(at) {
		t.Fatalf("tier %s since %s; want silver requalified at %s", a.Member.Tier, a.Member.TierSince, at)
	}
}

// TestMature: pending points move the member up as of the moment they
// become available, whenever maturation runs after that, and only once.
func TestMature(t *testing.T) {
	p := goldProgramme()
	p.PendingDays = 14
	avail := t0.Add(days(14))
	tests := []struct {
		name      string
		orders    []Event
		at        time.Time
		wantTier  string
		wantSince time.Time
	}{
		{"before the points are available", []Event{order(1, "o1", t0, 20000)}, avail.Add(-time.Nanosecond), "base", t0},
		{"at the moment they are", []Event{order(1, "o1", t0, 20000)}, avail, "silver", avail},
		{"a month later: still as of that moment", []Event{order(1, "o1", t0, 20000)}, avail.Add(days(30)), "silver", avail},
		{"two orders: the tier each reached, the last since it reached gold", []Event{
			order(1, "o1", t0, 20000), order(2, "o2", t0.Add(days(2)), 40000),
		}, avail.Add(days(30)), "gold", avail.Add(days(2))},
		{"two orders, only the first available", []Event{
			order(1, "o1", t0, 20000), order(2, "o2", t0.Add(days(2)), 40000),
		}, avail.Add(days(1)), "silver", avail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := apply(t, newMemLedger(), p, tt.orders...)
			changed := a.Mature(p, tt.at)
			if a.Member.Tier != tt.wantTier || !a.Member.TierSince.Equal(tt.wantSince) {
				t.Fatalf("got %s since %s, want %s since %s", a.Member.Tier, a.Member.TierSince, tt.wantTier, tt.wantSince)
			}
			if changed != (tt.wantTier != "base") {
				t.Fatalf("Mature reported %v for %s", changed, tt.wantTier)
			}
			before := a.Member
			if a.Mature(p, tt.at) || a.Member != before {
				t.Fatalf("maturing again changed %+v to %+v", before, a.Member)
			}
		})
	}
}

// TestMaturedPointsAreNotCountedAgainAfterADowngrade: an evaluation that
// moves the member down is not undone by maturing the same points again.
func TestMaturedPointsAreNotCountedAgainAfterADowngrade(t *testing.T) {
	p := goldProgramme()
	p.PendingDays, p.TierRetentionDays, p.QualificationWindowDays = 14, 10, 30
	a := apply(t, newMemLedger(), p, order(1, "o1", t0, 20000))
	a.Mature(p, t0.Add(days(14)))
	at := t0.Add(days(40)) // the order left the window, the retention is over
	if a.Evaluate(p, at); a.Member.Tier != "base" {
		t.Fatalf("got %s, want base after the evaluation", a.Member.Tier)
	}
	if a.Mature(p, at.Add(days(1))) || a.Member.Tier != "base" {
		t.Fatalf("got %s, want base: the points matured already", a.Member.Tier)
	}
}

// TestEarnAfterMaturation: an order applied after earlier pending points
// became available earns at the tier they reached.
func TestEarnAfterMaturation(t *testing.T) {
	p := goldProgramme()
	p.PendingDays = 14
	// 500.00 GBP pending reaches gold on day 14; 100.00 GBP on day 20 earns
	// at 150 %.
	a := apply(t, newMemLedger(), p, order(1, "o1", t0, 50000), order(2, "o2", t0.Add(days(20)), 10000))
	if a.Member.Tier != "gold" || a.Member.Lifetime != 650 {
		t.Fatalf("got %s with %d points, want gold with 500+150", a.Member.Tier, a.Member.Lifetime)
	}
}
