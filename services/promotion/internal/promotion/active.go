package promotion

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// activeSet is the compiled set of the active campaigns' promotions, as of
// one catalogue version. It is immutable: a change builds a new one.
type activeSet struct {
	version   int64
	campaigns map[string]*Campaign
	// live holds the same campaigns as a list, so an evaluation keeps
	// their audience facts in a slice, by index.
	live []*Campaign
	// promos are in evaluation order (pricing.Compare), so the engine
	// need not sort them for every cart; names, compiled and campaignOf
	// (an index into live) are theirs, by index.
	promos     []*Promotion
	names      []string
	compiled   []*pricing.Promotion
	campaignOf []int
	// segNames are the segmentation groups of the audiences checked live
	// (campaigns without a frozen audience); loyalty says some audience
	// names loyalty tiers; need is the usage evaluations read.
	segNames []string
	loyalty  bool
	need     UsageNeeds
}

// buildSet compiles the promotions of the active campaigns.
func buildSet(version int64, campaigns []*Campaign, promos []*Promotion) (*activeSet, error) {
	s := &activeSet{version: version, campaigns: map[string]*Campaign{}}
	seen := map[string]bool{}
	for _, c := range campaigns {
		s.campaigns[c.ID] = c
		if frozenAudience(c) {
			continue
		}
		for _, n := range c.Audience.SegmentationNames() {
			if !seen[n] {
				seen[n] = true
				s.segNames = append(s.segNames, n)
			}
		}
		s.loyalty = s.loyalty || len(c.Audience.LoyaltyTiers) > 0
	}
	slices.Sort(s.segNames)
	index := make(map[string]int, len(s.campaigns)) // campaign id → index in live
	for id, c := range s.campaigns {
		index[id] = len(s.live)
		s.live = append(s.live, c)
	}
	type entry struct {
		p        *Promotion
		cp       *pricing.Promotion
		campaign int
	}
	var entries []entry
	for _, p := range promos {
		ci, ok := index[p.CampaignID]
		if !ok {
			continue
		}
		cp, err := pricing.Compile(p.Def)
		if err != nil {
			return nil, fmt.Errorf("promotion: compile %s: %w", p.Name(), err)
		}
		entries = append(entries, entry{p, cp, ci})
	}
	slices.SortFunc(entries, func(a, b entry) int { return pricing.Compare(a.cp, b.cp) })
	for _, e := range entries {
		s.promos = append(s.promos, e.p)
		s.names = append(s.names, e.p.Name())
		s.compiled = append(s.compiled, e.cp)
		s.campaignOf = append(s.campaignOf, e.campaign)
	}
	s.need = s.usageNeeds()
	return s, nil
}

// usageNeeds is the usage that evaluations over the set read: only what
// its campaigns and promotions limit or depend on changes a result.
func (s *activeSet) usageNeeds() UsageNeeds {
	var n UsageNeeds
	for _, c := range s.campaigns {
		n.CampaignBudgets = n.CampaignBudgets || c.Budget > 0
		n.Frozen = n.Frozen || frozenAudience(c)
	}
	for _, p := range s.promos {
		n.PromotionCounters = n.PromotionCounters || p.TotalUses > 0 || p.Budget > 0 || p.Stock > 0
		n.CustomerUses = n.CustomerUses || p.UsesPerCustomer > 0 ||
			(p.Def.Effect.FlashPrice != nil && p.Def.Effect.FlashPrice.PerCustomerUnitLimit > 0)
		n.Orders = n.Orders || p.Def.Conditions.FirstOrderOnly
	}
	return n
}

// frozenAudience reports whether a campaign's audience is the one frozen at
// activation rather than checked per cart.
func frozenAudience(c *Campaign) bool { return c.HoldoutPercent > 0 && !c.Audience.Empty() }

// current returns the active set, loading it on first use.
func (s *Service) current(ctx context.Context) (*activeSet, error) {
	if set := s.set.Load(); set != nil {
		return set, nil
	}
	return s.reload(ctx, -1)
}

// Refresh reloads the active set when the stored catalogue version moved.
// The app calls it on a timer on every replica; every change on this
// replica calls it too.
func (s *Service) Refresh(ctx context.Context) error {
	v, err := s.store.CatalogVersion(ctx)
	if err != nil {
		return err
	}
	if set := s.set.Load(); set != nil && set.version == v {
		return nil
	}
	_, err = s.reload(ctx, v)
	return err
}

// reload loads and compiles the active set unless one at least as new as
// want is in place.
func (s *Service) reload(ctx context.Context, want int64) (*activeSet, error) {
	s.reloading.Lock()
	defer s.reloading.Unlock()
	if set := s.set.Load(); set != nil && want >= 0 && set.version >= want {
		return set, nil
	}
	v, campaigns, promos, err := s.store.LoadActive(ctx)
	if err != nil {
		return nil, err
	}
	set, err := buildSet(v, campaigns, promos)
	if err != nil {
		return nil, err
	}
	if old := s.set.Load(); old == nil || old.version <= v {
		s.set.Store(set)
	}
	return set, nil
}

// Version is the catalogue version of the active set in memory.
func (s *Service) Version() int64 {
	if set := s.set.Load(); set != nil {
		return set.version
	}
	return -1
}

// remaining is limit − used, or pricing.Unlimited for no limit.
func remaining(limit, used int64) int64 {
	if limit <= 0 {
		return pricing.Unlimited
	}
	return max(limit-used, 0)
}

// facts are a candidate's facts from the snapshot and audience answers;
// name is the promotion's.
func facts(p *Promotion, name string, c *Campaign, snap *Snapshot, aud pricing.Audience, now time.Time) pricing.Facts {
	f := pricing.OpenFacts()
	f.Audience = aud
	f.CampaignLive = c.LiveAt(now)
	n := snap.Promotions[name]
	f.RemainingUses = remaining(p.TotalUses, n.Uses)
	f.RemainingCustomerUses = remaining(p.UsesPerCustomer, n.CustomerUses)
	f.RemainingBudget = remaining(p.Budget, n.BudgetUsed)
	f.RemainingCampaignBudget = remaining(c.Budget, snap.CampaignBudgetUsed[c.ID])
	f.RemainingStock = remaining(p.Stock, n.StockUsed)
	if fp := p.Def.Effect.FlashPrice; fp != nil {
		f.RemainingCustomerUnits = remaining(fp.PerCustomerUnitLimit, n.CustomerUnits)
	}
	return f
}
