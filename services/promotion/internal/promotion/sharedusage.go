package promotion

import (
	"context"
	"time"
)

// sharedUsage is the part of a snapshot that is the same for every
// customer, the promotions' counters and the campaigns' budgets used, as
// read for one active set. Cart evaluations on this replica reuse it for
// up to the usage TTL (SetUsageTTL) instead of reading it on every call.
// Evaluation is advisory: a redemption evaluates with counters read in its
// own call and takes every limit by a guarded write, so a stale copy never
// lets an order exceed a limit. Every redemption, cancellation and refund
// through this replica drops the copy, so its own evaluations never see it
// stale; another replica's writes show within the TTL.
type sharedUsage struct {
	set        *activeSet
	gen        uint64
	expires    time.Time
	promotions map[string]Counters // only Uses, BudgetUsed and StockUsed
	budgets    map[string]int64
}

// SetUsageTTL sets how long cart evaluations reuse the shared counters
// (0, the default, reads them on every call); call it before serving.
func (s *Service) SetUsageTTL(d time.Duration) { s.usageTTL = d }

// dropSharedUsage forgets the shared counters after a write to them.
func (s *Service) dropSharedUsage() {
	s.usageGen.Add(1)
	s.usage.Store(nil)
}

// snapshot reads the usage an evaluation over set needs. With cached, the
// shared counters come from the copy while it is valid and a new copy is
// kept when they are read.
func (s *Service) snapshot(ctx context.Context, set *activeSet, customerID string, codes []string, cached bool) (Snapshot, error) {
	if !cached || s.usageTTL <= 0 {
		return s.store.Snapshot(ctx, customerID, codes, set.need)
	}
	gen := s.usageGen.Load()
	if u := s.usage.Load(); u != nil && u.set == set && u.gen == gen && time.Now().Before(u.expires) {
		need := set.need
		need.PromotionCounters, need.CampaignBudgets = false, false
		snap, err := s.store.Snapshot(ctx, customerID, codes, need)
		u.apply(&snap)
		return snap, err
	}
	start := time.Now()
	snap, err := s.store.Snapshot(ctx, customerID, codes, set.need)
	if err == nil && s.usageGen.Load() == gen {
		s.usage.Store(sharedOf(set, gen, start.Add(s.usageTTL), &snap))
	}
	return snap, err
}

// sharedOf copies the shared counters of snap.
func sharedOf(set *activeSet, gen uint64, expires time.Time, snap *Snapshot) *sharedUsage {
	u := &sharedUsage{set: set, gen: gen, expires: expires, promotions: make(map[string]Counters, len(snap.Promotions)), budgets: snap.CampaignBudgetUsed}
	for name, n := range snap.Promotions {
		if n.Uses != 0 || n.BudgetUsed != 0 || n.StockUsed != 0 {
			u.promotions[name] = Counters{Uses: n.Uses, BudgetUsed: n.BudgetUsed, StockUsed: n.StockUsed}
		}
	}
	return u
}

// apply puts the shared counters into snap, which holds the customer's.
// The budgets map is shared: evaluations only read it.
func (u *sharedUsage) apply(snap *Snapshot) {
	if snap.Promotions == nil && len(u.promotions) > 0 {
		snap.Promotions = make(map[string]Counters, len(u.promotions))
	}
	for name, c := range u.promotions {
		n := snap.Promotions[name]
		n.Uses, n.BudgetUsed, n.StockUsed = c.Uses, c.BudgetUsed, c.StockUsed
		snap.Promotions[name] = n
	}
	snap.CampaignBudgetUsed = u.budgets
}
