package loyalty

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// Service holds the loyalty use cases.
type Service struct {
	store     Store
	now       func() time.Time
	jobBatch  int
	jobLease  time.Duration
	programme programmeCache
	notifier  ProgrammeNotifier
	metrics   Metrics
}

// NewService returns a Service over store with the clock now (time.Now
// when nil).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, jobBatch: jobBatch, jobLease: jobLease}
}

// Programme returns a programme version, 0 for the current one, which is
// DefaultProgramme until the first update.
// The current version comes from memory while no newer version is known
// (see ForgetProgramme) and for at most programmeMaxAge.
func (s *Service) Programme(ctx context.Context, version int64) (Programme, error) {
	if version < 0 {
		return Programme{}, invalid("version", "must not be negative, got %d", version)
	}
	if version == 0 {
		if p, ok := s.programme.get(s.now()); ok {
			return p, nil
		}
		return s.loadProgramme(ctx)
	}
	return s.store.Programme(ctx, version)
}

// loadProgramme reads the current programme from the store and keeps it.
func (s *Service) loadProgramme(ctx context.Context) (Programme, error) {
	at := s.now()
	p, err := s.store.Programme(ctx, 0)
	if errors.Is(err, ErrProgrammeNotFound) {
		p, err = DefaultProgramme(), nil
	}
	if err == nil {
		s.programme.put(p, at)
	}
	return p, err
}

// UpdateProgramme merges the fields of upd named by paths into the current
// programme, validates the result and stores it as a new version; when
// expected is not 0 it must be the current version.
func (s *Service) UpdateProgramme(ctx context.Context, upd Programme, paths []string, expected int64) (Programme, error) {
	if expected < 0 {
		return Programme{}, invalid("expected_version", "must not be negative, got %d", expected)
	}
	cur, err := s.loadProgramme(ctx)
	if err != nil {
		return Programme{}, err
	}
	if expected != 0 && expected != cur.Version {
		return Programme{}, fmt.Errorf("%w: the programme is at version %d, not %d", ErrVersionMismatch, cur.Version, expected)
	}
	next, err := MergeProgramme(cur, upd, paths)
	if err != nil {
		return Programme{}, err
	}
	if err := next.Validate(); err != nil {
		return Programme{}, err
	}
	next.UpdateTime = s.now().UTC()
	saved, err := s.store.InsertProgramme(ctx, next, cur.Version)
	if err != nil {
		return Programme{}, err
	}
	s.programme.put(saved, s.now())
	if s.notifier != nil {
		s.notifier.ProgrammeChanged(ctx, saved.Version)
	}
	return saved, nil
}

// MemberView is a member with its balances at a time.
type MemberView struct {
	Member
	TierUntil                                time.Time
	Available, Pending, Expiring, Qualifying int64
	NextTier                                 string
	ToNextTier                               int64
}

// expiringWindow is how far ahead a member's expiring points look.
const expiringWindow = 30 * day

// View returns a's balances at t under p.
func View(a *Account, p Programme, t time.Time) MemberView {
	v := MemberView{Member: a.Member, TierUntil: a.TierUntil(p), Available: a.Available(t), Pending: a.Pending(t),
		Expiring: a.Expiring(t, expiringWindow), Qualifying: a.Qualifying(t, p.QualificationWindowDays)}
	if i := a.tierIndex(p) + 1; i < len(p.Tiers) {
		v.NextTier, v.ToNextTier = p.Tiers[i].ID, max(p.Tiers[i].QualifyingPoints-v.Qualifying, 0)
	}
	return v
}

var memberIDRE = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)

// checkMemberID checks a member (customer) id.
func checkMemberID(path, id string) error {
	if !memberIDRE.MatchString(id) {
		return invalid(path, "must be a customer id of 1 to 200 printable ASCII characters, got %s", fielderr.Quote(id))
	}
	return nil
}

// CreateMember enrols a customer now.
func (s *Service) CreateMember(ctx context.Context, id string) (MemberView, error) {
	if err := checkMemberID("member_id", id); err != nil {
		return MemberView{}, err
	}
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return MemberView{}, err
	}
	now := s.now().UTC()
	var out MemberView
	err = s.store.InLedger(ctx, windowStart(p, now), func(ctx context.Context, l Ledger) error {
		a, err := l.Account(ctx, id)
		switch {
		case err != nil:
			return err
		case a == nil:
			if a, err = l.Create(ctx, Member{ID: id}); err != nil {
				return err
			}
		case a.Member.Enrolled:
			return fmt.Errorf("%w: %s", ErrMemberAlreadyExists, id)
		}
		a.Member.Enrolled, a.Member.Tier, a.Member.TierSince, a.Member.CreateTime = true, p.Tiers[0].ID, now, now
		a.Touch()
		out = View(a, p, now)
		return nil
	})
	return out, err
}

// GetMember returns a member's view now.
func (s *Service) GetMember(ctx context.Context, id string) (MemberView, error) {
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return MemberView{}, err
	}
	now := s.now().UTC()
	a, err := s.store.ReadAccount(ctx, id, windowStart(p, now))
	if err != nil {
		return MemberView{}, err
	}
	if a == nil || !a.Member.Enrolled {
		return MemberView{}, fmt.Errorf("%w: %s", ErrMemberNotFound, id)
	}
	a.Mature(p, now) // shown at once; saved by the member's next change or the maturation job
	return View(a, p, now), nil
}

// windowStart is the start of the qualification window that ends at t.
func windowStart(p Programme, t time.Time) time.Time {
	return t.Add(-time.Duration(p.QualificationWindowDays) * day)
}

// ListEntries pages through a member's ledger, newest first.
func (s *Service) ListEntries(ctx context.Context, id string, pageSize int, token string) ([]Entry, string, error) {
	pg, err := paging.Parse(entrySizes, pageSize, token, paging.For("ListLedgerEntries").With("parent", id))
	if err != nil {
		return nil, "", err
	}
	var after int64
	if pg.After != "" {
		if after, err = strconv.ParseInt(pg.After, 10, 64); err != nil || after <= 0 {
			return nil, "", paging.InvalidToken()
		}
	}
	if _, err := s.GetMember(ctx, id); err != nil {
		return nil, "", err
	}
	es, err := s.store.ListEntries(ctx, id, after, pg.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(pg, es, func(e Entry) string { return strconv.FormatInt(e.Seq, 10) })
	return out, next, nil
}

// Result is a mutation's entry and the member's available points after it.
type Result struct {
	Entry     Entry
	Available int64
	Value     Money
}

// inMember runs fn on an enrolled member's account in one transaction.
func (s *Service) inMember(ctx context.Context, id string, fn func(ctx context.Context, l Ledger, a *Account, p Programme, now time.Time) (Result, error)) (Result, error) {
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return Result{}, err
	}
	now := s.now().UTC()
	var out Result
	var entries []Entry
	err = s.store.InLedger(ctx, windowStart(p, now), func(ctx context.Context, l Ledger) error {
		a, err := l.Account(ctx, id)
		if err != nil {
			return err
		}
		if a == nil || !a.Member.Enrolled {
			return fmt.Errorf("%w: %s", ErrMemberNotFound, id)
		}
		a.Mature(p, now)
		if out, err = fn(ctx, l, a, p, now); err != nil {
			return err
		}
		out.Available = a.Available(now)
		entries = a.Unsaved()
		return nil
	})
	if err == nil {
		s.committed(entries)
	}
	return out, err
}

// maxPoints bounds the points of one request.
const maxPoints = 1_000_000_000_000

func checkPoints(path string, n int64, allowNegative bool) error {
	if n == 0 || n > maxPoints || n < -maxPoints || (n < 0 && !allowNegative) {
		if allowNegative {
			return invalid(path, "must be a non-zero number of points between -%d and %d, got %d", int64(maxPoints), int64(maxPoints), n)
		}
		return invalid(path, "must be 1 to %d points, got %d", int64(maxPoints), n)
	}
	return nil
}

func required(path, what string) error {
	return &fielderr.Error{Path: path, Problem: "is required", Fix: what}
}

// RedeemPoints spends points now as a cash offset on an order.
func (s *Service) RedeemPoints(ctx context.Context, id string, points int64, orderID string) (Result, error) {
	if err := checkPoints("points", points, false); err != nil {
		return Result{}, err
	}
	if orderID == "" {
		return Result{}, required("order_id", "send the id of the order the points pay for")
	}
	return s.inMember(ctx, id, func(_ context.Context, _ Ledger, a *Account, p Programme, now time.Time) (Result, error) {
		e, err := a.Debit(EntryRedeem, points, now, Source{OrderID: orderID}, p.Version)
		return Result{Entry: e, Value: Money{Currency: p.PointValue.Currency, Minor: points * p.PointValue.Minor}}, err
	})
}

// CancelRedemption gives a redeem entry's points back now.
func (s *Service) CancelRedemption(ctx context.Context, id string, seq int64) (Result, error) {
	return s.inMember(ctx, id, func(ctx context.Context, l Ledger, a *Account, p Programme, now time.Time) (Result, error) {
		return cancelEntry(ctx, l, a, seq, p, now, false)
	})
}

// AdjustPoints credits or debits points by an operator now. A credit is
// available at once, expires as earned points do and does not qualify for
// tiers.
func (s *Service) AdjustPoints(ctx context.Context, id string, points int64, reason, operator string) (Result, error) {
	if err := checkPoints("points", points, true); err != nil {
		return Result{}, err
	}
	if reason == "" {
		return Result{}, required("reason", "say why the points are adjusted")
	}
	if operator == "" {
		return Result{}, required("operator", "name who adjusts the points")
	}
	src := Source{Reason: reason, Operator: operator}
	return s.inMember(ctx, id, func(_ context.Context, _ Ledger, a *Account, p Programme, now time.Time) (Result, error) {
		if points < 0 {
			e, err := a.Debit(EntryAdjust, -points, now, src, p.Version)
			return Result{Entry: e}, err
		}
		return Result{Entry: a.credit(Credit{Type: EntryAdjust, Points: points, At: now, AvailableAt: now,
			ExpiresAt: ExpiryOf(now, p.ExpiryMonths), Source: src}, p.Version)}, nil
	})
}

// ApplyEvents applies a page of profile events, in sequence order, with
// the current programme, and moves the cursor to the last one, in one
// transaction. Events at or below the stored cursor were applied already.
func (s *Service) ApplyEvents(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return err
	}
	from := events[0].OccurredAt
	for _, e := range events {
		if e.OccurredAt.Before(from) {
			from = e.OccurredAt
		}
	}
	ap := Applier{P: p}
	var entries []Entry
	err = s.store.ApplyPage(ctx, events[len(events)-1].Sequence, windowStart(p, from),
		func(ctx context.Context, tx Ledger, cursor int64) error {
			l := newRecordingLedger(tx)
			ids, orders := pageKeys(events, cursor)
			if err := l.Prefetch(ctx, ids, orders); err != nil {
				return err
			}
			if err := precreate(ctx, l, ap, events, cursor); err != nil {
				return err
			}
			if err := prefetchCounts(ctx, l, ap, events, cursor); err != nil {
				return err
			}
			for _, e := range events {
				if e.Sequence <= cursor {
					continue
				}
				if err := ap.Apply(ctx, l, e); err != nil {
					return err
				}
			}
			entries = l.collect()
			return nil
		})
	if err == nil {
		s.committed(entries)
	}
	return err
}

// precreate registers together the unknown customers whose first event
// in the page after cursor registers them, as that event would (a bare,
// not yet enrolled record, which applying it then enrols): one statement
// instead of one per new customer.
func precreate(ctx context.Context, l Ledger, ap Applier, events []Event, cursor int64) error {
	seen := map[string]bool{}
	var ms []Member
	for _, e := range events {
		if e.Sequence <= cursor || seen[e.CustomerID] {
			continue
		}
		seen[e.CustomerID] = true
		if !ap.creates(e) {
			continue
		}
		a, err := l.Account(ctx, e.CustomerID)
		if err != nil {
			return err
		}
		if a == nil {
			ms = append(ms, Member{ID: e.CustomerID})
		}
	}
	if len(ms) == 0 {
		return nil
	}
	return l.CreateAll(ctx, ms)
}

// prefetchCounts loads, for the members loaded, the action counts the
// page's shares and check-ins after cursor will read.
func prefetchCounts(ctx context.Context, l Ledger, ap Applier, events []Event, cursor int64) error {
	keys := map[string][]string{}
	for _, e := range events {
		if e.Sequence <= cursor || (e.Kind != EventContentShared && e.Kind != EventCheckedIn) {
			continue
		}
		a, err := l.Account(ctx, e.CustomerID)
		if err != nil {
			return err
		}
		if a != nil {
			keys[e.CustomerID] = append(keys[e.CustomerID], ap.countKey(a, e))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return l.PrefetchCounts(ctx, keys)
}

// pageKeys returns the sorted customer ids of the events after cursor and
// the order ids they name, per customer.
func pageKeys(events []Event, cursor int64) ([]string, map[string][]string) {
	var ids []string
	orders := map[string][]string{}
	for _, e := range events {
		if e.Sequence <= cursor {
			continue
		}
		ids = append(ids, e.CustomerID)
		if e.OrderID != "" {
			orders[e.CustomerID] = append(orders[e.CustomerID], e.OrderID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), orders
}

// Report returns the programme's report now, with money values at the
// point value.
func (s *Service) Report(ctx context.Context) (Report, Programme, error) {
	p, err := s.Programme(ctx, 0)
	if err != nil {
		return Report{}, Programme{}, err
	}
	r, err := s.store.Report(ctx, s.now().UTC())
	return r, p, err
}

// Export is everything the service holds about a member.
type Export struct {
	Member MemberView
	// Entries is the whole ledger, oldest first.
	Entries     []Entry
	Redemptions []RewardRedemption
}

// Export returns a member, its whole ledger and its reward redemptions.
func (s *Service) Export(ctx context.Context, id string) (Export, error) {
	v, err := s.GetMember(ctx, id)
	if err != nil {
		return Export{}, err
	}
	var all []Entry
	for before := int64(0); ; {
		es, err := s.store.ListEntries(ctx, id, before, entrySizes.Max)
		if err != nil {
			return Export{}, err
		}
		all = append(all, es...)
		if len(es) < entrySizes.Max {
			break
		}
		before = es[len(es)-1].Seq
	}
	slices.Reverse(all)
	reds, err := s.store.MemberRedemptions(ctx, id)
	return Export{Member: v, Entries: all, Redemptions: reds}, err
}
