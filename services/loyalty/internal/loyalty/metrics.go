package loyalty

import "context"

// Metrics hears of the ledger entries each transaction committed, to count
// them (points issued, redeemed, expired, reversed; redemptions). The app
// gives one that exports counters.
type Metrics interface {
	Committed(entries []Entry)
}

// SetMetrics sets who hears of committed entries.
func (s *Service) SetMetrics(m Metrics) { s.metrics = m }

// committed tells the metrics of entries a transaction committed.
func (s *Service) committed(entries []Entry) {
	if s.metrics != nil && len(entries) > 0 {
		s.metrics.Committed(entries)
	}
}

// recordingLedger remembers the accounts a transaction used, to collect
// the entries written to them before they are saved.
type recordingLedger struct {
	Ledger
	seen    map[*Account]bool
	entries []Entry
}

func newRecordingLedger(l Ledger) *recordingLedger {
	return &recordingLedger{Ledger: l, seen: map[*Account]bool{}}
}

func (r *recordingLedger) Account(ctx context.Context, id string) (*Account, error) {
	a, err := r.Ledger.Account(ctx, id)
	if a != nil {
		r.seen[a] = true
	}
	return a, err
}

func (r *recordingLedger) Create(ctx context.Context, m Member) (*Account, error) {
	a, err := r.Ledger.Create(ctx, m)
	if a != nil {
		r.seen[a] = true
	}
	return a, err
}

// Rekey and Delete save the accounts first: their entries are collected
// before.
func (r *recordingLedger) Rekey(ctx context.Context, from, to string) error {
	r.collect()
	return r.Ledger.Rekey(ctx, from, to)
}

func (r *recordingLedger) Delete(ctx context.Context, id string) error {
	r.collect()
	return r.Ledger.Delete(ctx, id)
}

// collect takes the unsaved entries of the accounts seen.
func (r *recordingLedger) collect() []Entry {
	for a := range r.seen {
		r.entries = append(r.entries, a.Unsaved()...)
		delete(r.seen, a)
	}
	return r.entries
}
