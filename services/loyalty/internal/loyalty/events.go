package loyalty

import (
	"context"
	"time"
)

// EventKind is the kind of a profile event, as the ledger sees it.
type EventKind uint8

// The kinds the ledger acts on; others are skipped.
const (
	EventOther EventKind = iota
	EventOrderPlaced
	EventOrderRefunded
	EventReviewPosted
	EventContentShared
	EventCheckedIn
	EventCustomerUpdated
	EventCustomerErased
	EventCustomerDeleted
)

// Line is an order line's amounts in minor units.
type Line struct {
	Quantity      int64
	UnitMinor     int64
	DiscountMinor int64
}

// Event is a profile event as the ledger sees it.
type Event struct {
	Sequence   int64
	EventID    string
	CustomerID string
	OccurredAt time.Time
	Kind       EventKind
	OrderID    string
	Currency   string
	// HasTotal says AmountMinor is the event's total (order) or amount
	// (refund); without it an order's total comes from its lines.
	HasTotal      bool
	AmountMinor   int64
	Lines         []Line
	OrderDiscount int64
	Review        Review
	Birthday      string
	TimeZone      string
	AnonymousID   string
}

// OrderTotal is what the customer paid for an order, as profile defines
// it: the event's total when it has one, else the lines' quantity × unit
// price − line discounts − the order discount.
func OrderTotal(e Event) int64 {
	if e.HasTotal {
		return e.AmountMinor
	}
	var t int64
	for _, l := range e.Lines {
		t += l.Quantity*l.UnitMinor - l.DiscountMinor
	}
	return t - e.OrderDiscount
}

// Ledger is one transaction's access to the ledger. Accounts it returns
// are saved, with all their changes, when the transaction commits.
type Ledger interface {
	// Prefetch loads the accounts of ids, in id order, and the orders
	// named in orders (member id → order ids), in a few statements, for
	// Account and LoadOrder to find. It is a hint: they work without it.
	Prefetch(ctx context.Context, ids []string, orders map[string][]string) error
	// PrefetchCounts loads the action counts named in keys (member id →
	// Counts keys) into the accounts loaded, in a few statements, for
	// LoadCount to find. It is a hint too.
	PrefetchCounts(ctx context.Context, keys map[string][]string) error
	// Account returns the customer's account, nil if the customer is
	// unknown.
	Account(ctx context.Context, id string) (*Account, error)
	// Create registers a new account for m.
	Create(ctx context.Context, m Member) (*Account, error)
	// CreateAll registers new accounts for ms, in a few statements; a
	// member another transaction created meanwhile is left as it is, for
	// Account to return.
	CreateAll(ctx context.Context, ms []Member) error
	// LoadOrder loads the order into a.Orders (and its bucket into
	// a.Buckets) and returns it; nil if the member has no such order.
	LoadOrder(ctx context.Context, a *Account, orderID string) (*Order, error)
	// LoadCount loads a.Counts[key].
	LoadCount(ctx context.Context, a *Account, key string) error
	// Entry returns an entry of the member and loads the buckets it
	// touched into a.Buckets; ErrRedemptionNotFound if there is none.
	Entry(ctx context.Context, a *Account, seq int64) (Entry, error)
	// UpdateEntry saves a changed entry (a cancelled redemption).
	UpdateEntry(ctx context.Context, a *Account, e Entry) error
	// Rekey moves a customer and its ledger to a new id.
	Rekey(ctx context.Context, from, to string) error
	// Delete forgets a customer without ledger entries.
	Delete(ctx context.Context, id string) error
	RewardLedger
}

// Applier applies profile events to the ledger with one programme version.
type Applier struct {
	P Programme
}

// Apply applies one event.
func (ap Applier) Apply(ctx context.Context, l Ledger, e Event) error {
	switch e.Kind {
	case EventCustomerUpdated:
		return ap.customerUpdated(ctx, l, e)
	case EventCustomerErased:
		return l.Rekey(ctx, e.CustomerID, e.AnonymousID)
	case EventCustomerDeleted:
		return l.Delete(ctx, e.CustomerID)
	case EventOther:
		return nil
	}
	a, err := ap.member(ctx, l, e.CustomerID, e.OccurredAt)
	if err != nil || a == nil {
		return err
	}
	switch e.Kind {
	case EventOrderPlaced:
		return ap.orderPlaced(ctx, l, a, e)
	case EventOrderRefunded:
		return ap.orderRefunded(ctx, l, a, e)
	}
	return ap.action(ctx, l, a, e)
}

// member returns the customer's account if it is a member, enrolling it
// at t under automatic enrolment; nil otherwise.
func (ap Applier) member(ctx context.Context, l Ledger, id string, t time.Time) (*Account, error) {
	a, err := l.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if a == nil {
		if ap.P.Enrolment != EnrolAutomatic {
			return nil, nil
		}
		return l.Create(ctx, Member{ID: id, Enrolled: true, Tier: ap.P.Tiers[0].ID, TierSince: t, CreateTime: t})
	}
	if !a.Member.Enrolled {
		if ap.P.Enrolment != EnrolAutomatic {
			return nil, nil
		}
		a.Member.Enrolled, a.Member.Tier, a.Member.TierSince, a.Member.CreateTime = true, ap.P.Tiers[0].ID, t, t
		a.Touch()
	}
	a.Mature(ap.P, t)
	return a, nil
}

// customerUpdated keeps the customer's birthday and time zone, enrolling
// it under automatic enrolment.
func (ap Applier) customerUpdated(ctx context.Context, l Ledger, e Event) error {
	a, err := l.Account(ctx, e.CustomerID)
	if err != nil {
		return err
	}
	if a == nil {
		if a, err = l.Create(ctx, Member{ID: e.CustomerID}); err != nil {
			return err
		}
	}
	a.Member.Birthday, a.Member.TimeZone = e.Birthday, e.TimeZone
	a.Touch()
	_, err = ap.member(ctx, l, e.CustomerID, e.OccurredAt)
	return err
}

// orderPlaced earns an order's points in a new bucket, pending for the
// programme's pending days; an order in another currency, or one seen
// before, earns nothing.
func (ap Applier) orderPlaced(ctx context.Context, l Ledger, a *Account, e Event) error {
	if e.Currency != ap.P.CurrencyCode {
		a.Member.SkippedOrders++
		a.Touch()
		return nil
	}
	if o, err := l.LoadOrder(ctx, a, e.OrderID); err != nil || o != nil {
		return err
	}
	total := OrderTotal(e)
	o := Order{ID: e.OrderID, Currency: e.Currency, TotalMinor: total}
	if pts := EarnPoints(total, e.Currency, ap.P.PointsPerUnit, a.Multiplier(ap.P)); pts > 0 {
		en := a.credit(Credit{Type: EntryEarn, Points: pts, At: e.OccurredAt,
			AvailableAt: e.OccurredAt.Add(time.Duration(ap.P.PendingDays) * day),
			ExpiresAt:   ExpiryOf(e.OccurredAt, ap.P.ExpiryMonths), Qualifying: true,
			Source: Source{EventID: e.EventID, OrderID: e.OrderID}}, ap.P.Version)
		o.Earned, o.Bucket = pts, en.Seq
		if avail := a.bucket(en.Seq).AvailableAt; avail.After(e.OccurredAt) && !avail.After(a.Member.MaturedAt) {
			// Applied after later events matured the member's pending
			// points: these count from the member's last maturation.
			a.Upgrade(ap.P, a.Member.MaturedAt)
		}
	}
	a.SetOrder(o)
	a.Upgrade(ap.P, e.OccurredAt)
	return nil
}

// orderRefunded reverses an order's points in proportion to what was
// refunded so far, or, without an order id, the refund's own worth.
func (ap Applier) orderRefunded(ctx context.Context, l Ledger, a *Account, e Event) error {
	if e.Currency != ap.P.CurrencyCode {
		return nil
	}
	src := Source{EventID: e.EventID, OrderID: e.OrderID}
	if e.OrderID == "" {
		if pts := RefundPoints(e.AmountMinor, e.Currency, ap.P.PointsPerUnit); pts > 0 {
			a.Reverse(pts, e.OccurredAt, src, ap.P.Version)
		}
		return nil
	}
	o, err := l.LoadOrder(ctx, a, e.OrderID)
	if err != nil || o == nil {
		return err // an order that earned nothing here reverses nothing
	}
	before := KeptPoints(o.Earned, o.TotalMinor, o.Refunded)
	next := *o
	next.Refunded += max(e.AmountMinor, 0)
	if pts := before - KeptPoints(o.Earned, o.TotalMinor, next.Refunded); pts > 0 {
		a.Reverse(pts, e.OccurredAt, src, ap.P.Version)
	}
	a.SetOrder(next)
	return nil
}

// action credits a review, share or check-in, within the daily limits.
func (ap Applier) action(ctx context.Context, l Ledger, a *Account, e Event) error {
	var action string
	var pts, limit int64
	switch e.Kind {
	case EventReviewPosted:
		action, pts = ActionReview, ap.P.ReviewCredit(e.Review)
	case EventContentShared:
		action, pts, limit = ActionShare, ap.P.SharePoints, ap.P.ShareDailyLimit
	case EventCheckedIn:
		action, pts, limit = ActionCheckIn, ap.P.CheckInPoints, 1
	default:
		return nil
	}
	if pts <= 0 {
		return nil
	}
	if limit > 0 {
		key := ap.countKey(a, e)
		if err := l.LoadCount(ctx, a, key); err != nil {
			return err
		}
		if a.Counts[key] >= limit {
			return nil
		}
		a.AddCount(key, 1)
	}
	a.credit(Credit{Type: EntryAction, Points: pts, At: e.OccurredAt, AvailableAt: e.OccurredAt,
		ExpiresAt: ExpiryOf(e.OccurredAt, ap.P.ExpiryMonths), Qualifying: true,
		Source: Source{EventID: e.EventID, Action: action}}, ap.P.Version)
	a.Upgrade(ap.P, e.OccurredAt)
	return nil
}

// creates reports whether applying e to a customer unknown so far
// registers it: a profile change does, and under automatic enrolment
// every event that earns or reverses points.
func (ap Applier) creates(e Event) bool {
	switch e.Kind {
	case EventCustomerUpdated:
		return true
	case EventCustomerErased, EventCustomerDeleted, EventOther:
		return false
	}
	return ap.P.Enrolment == EnrolAutomatic
}

// countKey is the Counts key a share or check-in event would use on a's
// account; "" for other events.
func (ap Applier) countKey(a *Account, e Event) string {
	switch e.Kind {
	case EventContentShared:
		return CountKey(ActionShare, LocalDay(e.OccurredAt, ap.memberLocation(a)))
	case EventCheckedIn:
		return CountKey(ActionCheckIn, LocalDay(e.OccurredAt, ap.memberLocation(a)))
	}
	return ""
}

// memberLocation is the member's time zone, else the programme's.
func (ap Applier) memberLocation(a *Account) *time.Location {
	if a.Member.TimeZone != "" {
		if loc, err := time.LoadLocation(a.Member.TimeZone); err == nil {
			return loc
		}
	}
	return ap.P.Location()
}

// Birthday credits the birthday points at asOf when it is the member's
// birthday in its time zone and it has had none this year; it reports
// whether it did.
func (ap Applier) Birthday(a *Account, asOf time.Time) bool {
	if !a.Member.Enrolled || ap.P.BirthdayPoints <= 0 || a.Member.Birthday == "" {
		return false
	}
	local := LocalDay(asOf, ap.memberLocation(a))
	year := asOf.In(ap.memberLocation(a)).Year()
	if !IsBirthday(a.Member.Birthday, local) || a.Member.LastBirthdayYear >= year {
		return false
	}
	a.Member.LastBirthdayYear = year
	a.credit(Credit{Type: EntryAction, Points: ap.P.BirthdayPoints, At: asOf, AvailableAt: asOf,
		ExpiresAt: ExpiryOf(asOf, ap.P.ExpiryMonths), Qualifying: true, Source: Source{Action: ActionBirthday}}, ap.P.Version)
	a.Upgrade(ap.P, asOf)
	return true
}
