package loyalty

import (
	"cmp"
	"slices"
	"time"
)

// EntryType is what a ledger entry did.
type EntryType string

// The entry types.
const (
	EntryEarn    EntryType = "earn"
	EntryAction  EntryType = "action"
	EntryRedeem  EntryType = "redeem"
	EntryReverse EntryType = "reverse"
	EntryExpire  EntryType = "expire"
	EntryAdjust  EntryType = "adjust"
	EntryCancel  EntryType = "cancel"
)

// The actions that earn points.
const (
	ActionReview   = "review"
	ActionShare    = "share"
	ActionCheckIn  = "check_in"
	ActionBirthday = "birthday"
)

// BucketChange is the points one entry added to (positive) or took from
// (negative) one bucket.
type BucketChange struct {
	Bucket int64
	Points int64
}

// Source is where an entry comes from; the fields that apply are set.
type Source struct {
	EventID          string
	OrderID          string
	RewardRedemption string
	Operator         string
	Reason           string
	Action           string
	// Ref is the entry a cancel entry cancels.
	Ref int64
}

// Entry is one change to a member's points. Seq numbers a member's entries
// from 1 in the order they were written.
type Entry struct {
	Seq    int64
	Type   EntryType
	Points int64
	// Unrecovered is what a reversal or debit could not take back, or, on
	// a cancel entry, the points whose bucket had expired.
	Unrecovered      int64
	Buckets          []BucketChange
	Source           Source
	ProgrammeVersion int64
	Time             time.Time
	// Cancelled is set on a redeem entry once it is cancelled.
	Cancelled bool
}

// Bucket is one credit with its own availability and expiry. Its id is the
// Seq of the entry that created it.
type Bucket struct {
	ID          int64
	Points      int64
	Remaining   int64
	EarnedAt    time.Time
	AvailableAt time.Time
	// ExpiresAt is zero for a bucket that never expires.
	ExpiresAt time.Time
	OrderID   string
	// Qualifying buckets (earned from orders and actions) count for tiers.
	Qualifying bool
	// Reversed is how much of the bucket's points were reversed since,
	// subtracted from qualifying points.
	Reversed int64
}

// availableAt reports whether the bucket's points can be spent at t.
func (b *Bucket) availableAt(t time.Time) bool {
	return !b.AvailableAt.After(t) && !b.expiredAt(t)
}

func (b *Bucket) expiredAt(t time.Time) bool { return !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(t) }

// Member is a customer known to the service; only Enrolled ones are
// members.
type Member struct {
	ID               string
	Enrolled         bool
	Tier             string
	TierSince        time.Time
	Birthday         string
	TimeZone         string
	Lifetime         int64
	Seq              int64
	LastBirthdayYear int
	// SkippedOrders counts orders in another currency, which earned
	// nothing.
	SkippedOrders int64
	CreateTime    time.Time
	// MaturedAt is the latest time at which pending points that became
	// available have been counted for the member's tier (see Mature).
	MaturedAt time.Time
}

// Order is what the ledger remembers of an order that earned points.
type Order struct {
	ID         string
	Currency   string
	TotalMinor int64
	Earned     int64
	Refunded   int64
	Bucket     int64
}

// Account is a member with the buckets, orders and action counts a
// transaction has loaded, and the changes it makes to them. Its methods are
// the ledger's rules; storage saves what Changes returns.
type Account struct {
	Member  Member
	Buckets []*Bucket
	Orders  map[string]*Order
	// Counts holds action credits per "action/day" key.
	Counts map[string]int64

	entries      []Entry
	dirtyBuckets map[int64]bool
	dirtyOrders  map[string]bool
	dirtyCounts  map[string]bool
	dirtyMember  bool
}

// NewAccount returns an account over a loaded member and its buckets.
func NewAccount(m Member, buckets []*Bucket) *Account {
	return &Account{Member: m, Buckets: buckets, Orders: map[string]*Order{}, Counts: map[string]int64{},
		dirtyBuckets: map[int64]bool{}, dirtyOrders: map[string]bool{}, dirtyCounts: map[string]bool{}}
}

// Changes is what a transaction changed in an account.
type Changes struct {
	Member        Member
	MemberChanged bool
	Buckets       []Bucket
	Orders        []Order
	Counts        map[string]int64
	Entries       []Entry
}

// Changes returns the account's unsaved changes.
func (a *Account) Changes() Changes {
	c := Changes{Member: a.Member, MemberChanged: a.dirtyMember || len(a.entries) > 0, Entries: a.entries,
		Counts: map[string]int64{}}
	for _, b := range a.Buckets {
		if a.dirtyBuckets[b.ID] {
			c.Buckets = append(c.Buckets, *b)
		}
	}
	for id := range a.dirtyOrders {
		c.Orders = append(c.Orders, *a.Orders[id])
	}
	slices.SortFunc(c.Orders, func(x, y Order) int { return cmp.Compare(x.ID, y.ID) })
	for k := range a.dirtyCounts {
		c.Counts[k] = a.Counts[k]
	}
	return c
}

// Saved forgets the changes once storage has saved them.
func (a *Account) Saved() {
	a.entries = nil
	clear(a.dirtyBuckets)
	clear(a.dirtyOrders)
	clear(a.dirtyCounts)
	a.dirtyMember = false
}

// Unsaved returns the entries written since the account was loaded or
// saved.
func (a *Account) Unsaved() []Entry { return a.entries }

// Touch marks the member record as changed.
func (a *Account) Touch() { a.dirtyMember = true }

// SetOrder records an order's new state.
func (a *Account) SetOrder(o Order) {
	a.Orders[o.ID] = &o
	a.dirtyOrders[o.ID] = true
}

// AddCount adds n to an action's count for a day.
func (a *Account) AddCount(key string, n int64) {
	a.Counts[key] += n
	a.dirtyCounts[key] = true
}

// CountKey is the Counts key of an action on a local day.
func CountKey(action, day string) string { return action + "/" + day }

// bucket returns the loaded bucket with id, or nil.
func (a *Account) bucket(id int64) *Bucket {
	for _, b := range a.Buckets {
		if b.ID == id {
			return b
		}
	}
	return nil
}

// append numbers e, remembers it and returns it.
func (a *Account) append(e Entry) Entry {
	a.Member.Seq++
	e.Seq = a.Member.Seq
	a.entries = append(a.entries, e)
	return e
}

// Available returns the points that can be spent at t.
func (a *Account) Available(t time.Time) int64 {
	var n int64
	for _, b := range a.Buckets {
		if b.availableAt(t) {
			n += b.Remaining
		}
	}
	return n
}

// Pending returns the points earned but not yet available at t.
func (a *Account) Pending(t time.Time) int64 {
	var n int64
	for _, b := range a.Buckets {
		if b.AvailableAt.After(t) {
			n += b.Remaining
		}
	}
	return n
}

// Expiring returns the points available at t that expire within d.
func (a *Account) Expiring(t time.Time, d time.Duration) int64 {
	var n int64
	for _, b := range a.Buckets {
		if b.availableAt(t) && !b.ExpiresAt.IsZero() && !b.ExpiresAt.After(t.Add(d)) {
			n += b.Remaining
		}
	}
	return n
}

// Credit is a new bucket's terms.
type Credit struct {
	Type        EntryType
	Points      int64
	At          time.Time
	AvailableAt time.Time
	ExpiresAt   time.Time
	Qualifying  bool
	Source      Source
}

// credit writes a credit entry and its bucket.
func (a *Account) credit(c Credit, version int64) Entry {
	e := a.append(Entry{Type: c.Type, Points: c.Points, Source: c.Source, ProgrammeVersion: version, Time: c.At})
	b := &Bucket{ID: e.Seq, Points: c.Points, Remaining: c.Points, EarnedAt: c.At, AvailableAt: c.AvailableAt,
		ExpiresAt: c.ExpiresAt, OrderID: c.Source.OrderID, Qualifying: c.Qualifying}
	a.Buckets = append(a.Buckets, b)
	a.dirtyBuckets[b.ID] = true
	a.Member.Lifetime += c.Points
	a.entries[len(a.entries)-1].Buckets = []BucketChange{{Bucket: b.ID, Points: c.Points}}
	return a.entries[len(a.entries)-1]
}

// take removes up to want points from the buckets in order and returns the
// changes (negative) and what it could not take.
func (a *Account) take(order []*Bucket, want int64) ([]BucketChange, int64) {
	var out []BucketChange
	for _, b := range order {
		if want == 0 {
			break
		}
		n := min(b.Remaining, want)
		if n <= 0 {
			continue
		}
		b.Remaining -= n
		want -= n
		a.dirtyBuckets[b.ID] = true
		out = append(out, BucketChange{Bucket: b.ID, Points: -n})
	}
	return out, want
}

// spendOrder returns the buckets available at t, the first to expire first
// (never-expiring last), ties earned first.
func (a *Account) spendOrder(t time.Time) []*Bucket {
	var out []*Bucket
	for _, b := range a.Buckets {
		if b.availableAt(t) && b.Remaining > 0 {
			out = append(out, b)
		}
	}
	return sortForSpend(out)
}

// compareExpiry orders expiry times with the zero time (never) last.
func compareExpiry(x, y time.Time) int {
	switch {
	case x.IsZero() && y.IsZero():
		return 0
	case x.IsZero():
		return 1
	case y.IsZero():
		return -1
	}
	return x.Compare(y)
}

// Debit spends points available at t, from the bucket that expires first,
// as an entry of type typ (redeem or adjust). Without enough available
// points it changes nothing and returns an *InsufficientError.
func (a *Account) Debit(typ EntryType, points int64, t time.Time, src Source, version int64) (Entry, error) {
	if avail := a.Available(t); avail < points {
		return Entry{}, &InsufficientError{Available: avail, Requested: points}
	}
	changes, _ := a.take(a.spendOrder(t), points)
	return a.append(Entry{Type: typ, Points: -points, Buckets: changes, Source: src, ProgrammeVersion: version, Time: t}), nil
}

// Reverse takes back points at t for a refund: first from the order's own
// buckets (pending or available), then from the other available buckets,
// the latest to expire first. What it cannot take is recorded as
// unrecovered. Qualifying points lose the reversed points: the order's
// bucket when there is one, else the buckets taken from.
func (a *Account) Reverse(points int64, t time.Time, src Source, version int64) Entry {
	var own, others []*Bucket
	for _, b := range a.Buckets {
		switch {
		case src.OrderID != "" && b.OrderID == src.OrderID && !b.expiredAt(t):
			own = append(own, b)
		case b.availableAt(t):
			others = append(others, b)
		}
	}
	slices.Reverse(sortForSpend(others))
	changes, left := a.take(append(own, others...), points)
	if len(own) > 0 {
		own[0].Reversed += points
		a.dirtyBuckets[own[0].ID] = true
	} else {
		for _, c := range changes {
			if b := a.bucket(c.Bucket); b.Qualifying {
				b.Reversed -= c.Points
			}
		}
	}
	return a.append(Entry{Type: EntryReverse, Points: -(points - left), Unrecovered: left, Buckets: changes,
		Source: src, ProgrammeVersion: version, Time: t})
}

// sortForSpend sorts bs in spending order, the first to expire first
// (never-expiring last), ties earned first, and returns it.
func sortForSpend(bs []*Bucket) []*Bucket {
	slices.SortStableFunc(bs, func(x, y *Bucket) int {
		if c := compareExpiry(x.ExpiresAt, y.ExpiresAt); c != 0 {
			return c
		}
		if c := x.EarnedAt.Compare(y.EarnedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return bs
}

// Expire writes one expire entry for every bucket with points left that
// expired at or before asOf; it returns false when none did.
func (a *Account) Expire(asOf time.Time, version int64) (Entry, bool) {
	var changes []BucketChange
	var total int64
	for _, b := range a.Buckets {
		if b.Remaining > 0 && b.expiredAt(asOf) {
			changes = append(changes, BucketChange{Bucket: b.ID, Points: -b.Remaining})
			total += b.Remaining
			b.Remaining = 0
			a.dirtyBuckets[b.ID] = true
		}
	}
	if len(changes) == 0 {
		return Entry{}, false
	}
	return a.append(Entry{Type: EntryExpire, Points: -total, Buckets: changes, ProgrammeVersion: version, Time: asOf}), true
}

// Cancel gives a redeem entry's points back at t to the buckets they came
// from, which must be loaded. A bucket that has expired since keeps
// nothing: its points are recorded as unrecovered. The redeem entry is
// returned marked cancelled, for storage to save.
func (a *Account) Cancel(redeem Entry, t time.Time, src Source, version int64) (Entry, Entry, error) {
	if redeem.Type != EntryRedeem {
		return Entry{}, Entry{}, ErrRedemptionNotFound
	}
	if redeem.Cancelled {
		return Entry{}, Entry{}, ErrRedemptionClosed
	}
	var back []BucketChange
	var restored, lost int64
	for _, c := range redeem.Buckets {
		b := a.bucket(c.Bucket)
		if b == nil || b.expiredAt(t) {
			lost -= c.Points
			continue
		}
		b.Remaining -= c.Points
		a.dirtyBuckets[b.ID] = true
		restored -= c.Points
		back = append(back, BucketChange{Bucket: b.ID, Points: -c.Points})
	}
	src.Ref = redeem.Seq
	e := a.append(Entry{Type: EntryCancel, Points: restored, Unrecovered: lost, Buckets: back, Source: src,
		ProgrammeVersion: version, Time: t})
	redeem.Cancelled = true
	return e, redeem, nil
}
