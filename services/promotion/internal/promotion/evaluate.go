package promotion

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenurehq/tenure/services/promotion/internal/attribution"
	"github.com/tenurehq/tenure/services/promotion/internal/couponcode"
	"github.com/tenurehq/tenure/services/promotion/internal/pricing"
)

// Audiences answers audience questions from segmentation and loyalty.
type Audiences interface {
	// Check answers, in one call, whether the customer is in each of
	// names (segmentation groups).
	Check(ctx context.Context, customerID string, names []string) ([]bool, error)
	// LoyaltyTier is the customer's loyalty tier, "" for none.
	LoyaltyTier(ctx context.Context, customerID string) (string, error)
	// Members lists every customer of a segmentation group.
	Members(ctx context.Context, name string) ([]string, error)
}

// Service is the promotion domain's use cases.
type Service struct {
	store     Store
	audiences Audiences
	clock     func() time.Time
	logger    *slog.Logger
	set       atomic.Pointer[activeSet]
	reloading sync.Mutex
	// usage is the shared counters evaluations reuse for usageTTL;
	// usageGen counts the writes to them through this replica.
	usage    atomic.Pointer[sharedUsage]
	usageGen atomic.Uint64
	usageTTL time.Duration
	// background is the context of the service's background work (code
	// generation), done when the app stops; jobs waits for that work.
	background context.Context
	jobs       sync.WaitGroup
}

// NewService returns a Service over store; audiences may be nil (every
// audience check is then unavailable).
func NewService(store Store, audiences Audiences, clock func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{store: store, audiences: audiences, clock: clock, logger: logger, background: context.Background()}
}

// SetBackground sets the context of the service's background work (code
// generations); call it before serving.
func (s *Service) SetBackground(ctx context.Context) { s.background = ctx }

// WaitBackground waits for the background work, after its context is done.
func (s *Service) WaitBackground() { s.jobs.Wait() }

// EvaluateCart prices a cart without committing anything.
func (s *Service) EvaluateCart(ctx context.Context, cart pricing.Cart) (pricing.Result, error) {
	if err := validateCart("cart.", cart); err != nil {
		return pricing.Result{}, err
	}
	res, _, err := s.evaluate(ctx, cart, s.clock().UTC(), true)
	return res, err
}

// evaluate runs the engine over the active set with the customer's usage
// and audiences; cached lets it use the shared counters' copy.
func (s *Service) evaluate(ctx context.Context, cart pricing.Cart, now time.Time, cached bool) (pricing.Result, *activeSet, error) {
	set, err := s.current(ctx)
	if err != nil {
		return pricing.Result{}, nil, err
	}
	codes := normalizedCodes(cart.Codes)
	snap, err := s.snapshot(ctx, set, cart.CustomerID, codes, cached)
	if err != nil {
		return pricing.Result{}, nil, err
	}
	aud := s.audienceOf(ctx, set, cart.CustomerID, &snap)
	buf := candidateBufs.Get().(*[]pricing.Candidate)
	cands := slices.Grow((*buf)[:0], len(set.promos))[:len(set.promos)]
	defer func() {
		clear(cands) // let an old active set go
		*buf = cands[:0]
		candidateBufs.Put(buf)
	}()
	for i, p := range set.promos {
		ci := set.campaignOf[i]
		cands[i] = pricing.Candidate{Promotion: set.compiled[i], Facts: facts(p, set.names[i], set.live[ci], &snap, aud[ci], now)}
	}
	pctx := pricing.Context{Now: now, FirstOrder: pricing.FirstOrderNo, Codes: lookups(codes, snap.Codes, cart.CustomerID)}
	if snap.Orders == 0 {
		pctx.FirstOrder = pricing.FirstOrderYes
	}
	res, err := pricing.Evaluate(cart, cands, pctx)
	return res, set, err
}

// candidateBufs keeps the candidate lists of evaluations for the next ones
// (about 8 KB for 100 promotions): the engine reads the list and its
// Result holds nothing of it.
var candidateBufs = sync.Pool{New: func() any { return new([]pricing.Candidate) }}

// normalizedCodes are the cart's distinct codes in their stored form.
func normalizedCodes(codes []string) []string {
	var out []string
	for _, c := range codes {
		if n := couponcode.Normalize(c); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// lookups tells the engine what each cart code is.
func lookups(codes []string, found []Code, customerID string) []pricing.CodeLookup {
	out := make([]pricing.CodeLookup, 0, len(codes))
	for _, code := range codes {
		l := pricing.CodeLookup{Code: code, Status: pricing.CodeNotFound}
		for _, f := range found {
			if f.Code != code {
				continue
			}
			l.PromotionID = PromotionNames.Format(f.CampaignID, f.PromotionID)
			switch {
			case f.CustomerID != "" && f.CustomerID != customerID:
				l.Status = pricing.CodeNotYours
			case f.Uses >= f.MaxUses:
				l.Status = pricing.CodeUsedUp
			default:
				l.Status = pricing.CodeFound
			}
		}
		out = append(out, l)
	}
	return out
}

// audienceOf decides each active campaign's audience fact for a customer:
// frozen audiences from the snapshot, the others with one batched
// segmentation call (and one loyalty call when an audience names loyalty
// tiers). When a service cannot answer, the campaigns that need it get
// AudienceUnavailable and the others are unaffected. The facts are by
// index in set.live.
func (s *Service) audienceOf(ctx context.Context, set *activeSet, customerID string, snap *Snapshot) []pricing.Audience {
	out := make([]pricing.Audience, len(set.live))
	var inSeg map[string]bool
	segOK := true
	if len(set.segNames) > 0 {
		answers, err := s.check(ctx, customerID, set.segNames)
		if err != nil {
			segOK = false
			s.logger.WarnContext(ctx, "promotion: audience check unavailable", "error", err)
		} else {
			inSeg = make(map[string]bool, len(answers))
			for i, n := range set.segNames {
				inSeg[n] = answers[i]
			}
		}
	}
	tier, tierOK := "", true
	if set.loyalty {
		var err error
		if tier, err = s.loyaltyTier(ctx, customerID); err != nil {
			tierOK = false
			s.logger.WarnContext(ctx, "promotion: loyalty tier unavailable", "error", err)
		}
	}
	for i, c := range set.live {
		out[i] = campaignAudience(c, customerID, snap, inSeg, segOK, tier, tierOK)
	}
	return out
}

func (s *Service) check(ctx context.Context, customerID string, names []string) ([]bool, error) {
	if s.audiences == nil {
		return nil, ErrSegmentationUnavailable
	}
	return s.audiences.Check(ctx, customerID, names)
}

func (s *Service) loyaltyTier(ctx context.Context, customerID string) (string, error) {
	if s.audiences == nil {
		return "", ErrSegmentationUnavailable
	}
	return s.audiences.LoyaltyTier(ctx, customerID)
}

// campaignAudience is one campaign's audience fact.
func campaignAudience(c *Campaign, customerID string, snap *Snapshot, inSeg map[string]bool, segOK bool, tier string, tierOK bool) pricing.Audience {
	holdout := func(member bool) pricing.Audience {
		if !member {
			return pricing.AudienceNotMember
		}
		if c.HoldoutPercent > 0 && attribution.InHoldout(c.ID, customerID, c.HoldoutPercent) {
			return pricing.AudienceHoldout
		}
		return pricing.AudienceMember
	}
	if frozenAudience(c) {
		if control, ok := snap.Frozen[c.ID]; ok {
			if control {
				return pricing.AudienceHoldout
			}
			return pricing.AudienceMember
		}
		if len(c.Audience.LoyaltyTiers) == 0 {
			return pricing.AudienceNotMember
		}
		if !tierOK {
			return pricing.AudienceUnavailable
		}
		return holdout(slices.Contains(c.Audience.LoyaltyTiers, tier))
	}
	if c.Audience.Empty() {
		if c.HoldoutPercent > 0 {
			return holdout(true)
		}
		return pricing.AudienceEveryone
	}
	member, unknown := false, false
	for _, n := range c.Audience.SegmentationNames() {
		if !segOK {
			unknown = true
		} else if inSeg[n] {
			member = true
		}
	}
	if len(c.Audience.LoyaltyTiers) > 0 {
		if !tierOK {
			unknown = true
		} else if slices.Contains(c.Audience.LoyaltyTiers, tier) {
			member = true
		}
	}
	switch {
	case member:
		return pricing.AudienceMember
	case unknown:
		return pricing.AudienceUnavailable
	}
	return pricing.AudienceNotMember
}
