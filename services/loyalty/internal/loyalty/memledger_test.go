package loyalty

import (
	"context"
	"slices"
)

// memLedger is an in-memory Ledger for the rule tests: it keeps accounts
// as they are, so a test sees every change at once.
type memLedger struct {
	RewardLedger // not used by the rule tests
	accounts     map[string]*Account
	orders       map[string]map[string]Order // member → order id → order as saved
}

func newMemLedger() *memLedger {
	return &memLedger{accounts: map[string]*Account{}, orders: map[string]map[string]Order{}}
}

func (l *memLedger) Prefetch(context.Context, []string, map[string][]string) error { return nil }

func (l *memLedger) PrefetchCounts(context.Context, map[string][]string) error { return nil }

func (l *memLedger) Account(_ context.Context, id string) (*Account, error) {
	return l.accounts[id], nil
}

func (l *memLedger) Create(_ context.Context, m Member) (*Account, error) {
	a := NewAccount(m, nil)
	l.accounts[m.ID] = a
	return a, nil
}

func (l *memLedger) CreateAll(ctx context.Context, ms []Member) error {
	for _, m := range ms {
		if _, err := l.Create(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLedger) LoadOrder(_ context.Context, a *Account, id string) (*Order, error) {
	return a.Orders[id], nil
}

func (l *memLedger) LoadCount(context.Context, *Account, string) error { return nil }

func (l *memLedger) Entry(_ context.Context, a *Account, seq int64) (Entry, error) {
	i := slices.IndexFunc(a.entries, func(e Entry) bool { return e.Seq == seq })
	if i < 0 {
		return Entry{}, ErrRedemptionNotFound
	}
	return a.entries[i], nil
}

func (l *memLedger) UpdateEntry(_ context.Context, a *Account, e Entry) error {
	i := slices.IndexFunc(a.entries, func(x Entry) bool { return x.Seq == e.Seq })
	a.entries[i] = e
	return nil
}

func (l *memLedger) Rekey(_ context.Context, from, to string) error {
	if a := l.accounts[from]; a != nil {
		delete(l.accounts, from)
		a.Member.ID = to
		l.accounts[to] = a
	}
	return nil
}

func (l *memLedger) Delete(_ context.Context, id string) error {
	delete(l.accounts, id)
	return nil
}
