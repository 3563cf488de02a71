package pricing

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/promotion/internal/couponcode"
)

// Evaluate prices cart with the candidates that may apply to it. It is a
// pure function: the same inputs give the same Result.
//
// Policy, fixed:
//   - Candidates are taken by priority, highest first, then by id. A
//     code-based candidate is a candidate only when one of the cart's
//     codes was found for it; the cart's other codes are reported with
//     CODE_NOT_FOUND, CODE_USED_UP or CODE_NOT_YOURS.
//   - Each candidate is checked in this order, and the first failing check
//     is its reason: currency, schedule (campaign live, window), channel,
//     audience, first order, total uses, customer uses, stock (gift,
//     flash), customer units (flash), eligible lines, minimum quantity,
//     minimum subtotal, stacking, the effect giving something, budgets.
//   - Conditions are checked against the cart as it stands: eligible
//     subtotal is the sum of the eligible lines' amounts left by the
//     promotions applied before.
//   - Stacking: a candidate does not apply when an exclusive promotion
//     has applied, when it is exclusive and another has applied, or when
//     another of its stack group has applied.
//   - A promotion whose cost (line discount plus shipping discount) is
//     more than what is left of its budget or of its campaign's budget
//     (less what the cart's earlier promotions of that campaign took)
//     does not apply: BUDGET_EXHAUSTED. Equal is allowed.
//   - Amounts are split across lines by split (largest remainder); a
//     percentage is taken of a sum and rounded half up before it is split.
//     No line ever goes below zero.
//
// A cart outside the bounds (MaxLines, MaxQuantity, MaxAmount…) is
// rejected with a *fielderr.Error whose path is relative to the cart
// ("lines[2].quantity").
func Evaluate(cart Cart, candidates []Candidate, env Context) (Result, error) {
	if err := ValidateCart(cart); err != nil {
		return Result{}, err
	}
	s := newState(&cart, len(candidates))
	defer s.release()
	unlocked := s.resolveCodes(candidates, env.Codes)
	order := s.order
	for i := range candidates {
		p := candidates[i].Promotion
		if p == nil {
			continue
		}
		if p.def.Kind == KindCode {
			if _, ok := unlocked[p.def.ID]; !ok {
				continue
			}
		}
		order = append(order, i)
	}
	if !slices.IsSortedFunc(order, func(a, b int) int { return compareCandidates(&candidates[a], &candidates[b]) }) {
		slices.SortFunc(order, func(a, b int) int { return compareCandidates(&candidates[a], &candidates[b]) })
	}
	for _, i := range order {
		c := &candidates[i]
		s.consider(c, unlocked[c.Promotion.def.ID], &env)
	}
	return s.result(), nil
}

// compareCandidates orders candidates for evaluation (Compare).
func compareCandidates(a, b *Candidate) int { return Compare(a.Promotion, b.Promotion) }

// Compare orders promotions for evaluation: priority highest first, then
// id.
func Compare(a, b *Promotion) int {
	if c := cmp.Compare(b.def.Priority, a.def.Priority); c != 0 {
		return c
	}
	return cmp.Compare(a.def.ID, b.def.ID)
}

// SortCandidates puts candidates in evaluation order. Evaluate sorts them
// itself when they are not; a caller that keeps its active promotions
// sorted saves that work on every cart.
func SortCandidates(candidates []Candidate) {
	slices.SortFunc(candidates, func(a, b Candidate) int { return compareCandidates(&a, &b) })
}

// ValidateCart checks a cart against the bounds; paths are relative to
// the cart.
func ValidateCart(c Cart) error {
	switch {
	case !isCurrency(c.Currency):
		return fielderr.New("currency_code", "must be an ISO 4217 code of three capital letters, got %s", fielderr.Quote(c.Currency))
	case len(c.Lines) > MaxLines:
		return &fielderr.Error{Path: "lines", Problem: fmt.Sprintf("has %d lines", len(c.Lines)), Fix: fmt.Sprintf("send at most %d", MaxLines)}
	case c.ShippingFee < 0 || c.ShippingFee > MaxAmount:
		return fielderr.New("shipping_fee", "must be 0 to %d minor units, got %d", MaxAmount, c.ShippingFee)
	case len(c.Codes) > MaxCodes:
		return &fielderr.Error{Path: "codes", Problem: fmt.Sprintf("has %d codes", len(c.Codes)), Fix: fmt.Sprintf("send at most %d", MaxCodes)}
	}
	var sub int64
	var ids map[string]int // line id → index, for carts too long to scan
	if len(c.Lines) > 32 {
		ids = make(map[string]int, len(c.Lines))
	}
	for i, l := range c.Lines {
		if err := checkLine(c.Lines, i, ids); err != nil {
			return err
		}
		var ok bool
		if sub, ok = addChecked(sub, l.Quantity*l.UnitPrice); !ok {
			return &fielderr.Error{Path: fmt.Sprintf("lines[%d]", i), Problem: fmt.Sprintf("takes the cart's subtotal over %d minor units", MaxAmount)}
		}
	}
	return nil
}

// checkLine checks lines[i] alone and against the lines before it (in ids
// when it is not nil, by a scan otherwise).
func checkLine(lines []Line, i int, ids map[string]int) error {
	l := &lines[i]
	p := func() string { return fmt.Sprintf("lines[%d]", i) }
	switch {
	case l.ID == "" || len(l.ID) > maxTextLen:
		return &fielderr.Error{Path: p() + ".line_id", Problem: fmt.Sprintf("is %d bytes long", len(l.ID)), Fix: "send 1 to 128 bytes"}
	case l.Quantity < 1 || l.Quantity > MaxQuantity:
		return fielderr.New(p()+".quantity", "must be 1 to %d, got %d", MaxQuantity, l.Quantity)
	case l.UnitPrice < 0 || l.UnitPrice > MaxAmount/l.Quantity:
		return fielderr.New(p()+".unit_price", "must be 0 to %d minor units for a quantity of %d, got %d", MaxAmount/l.Quantity, l.Quantity, l.UnitPrice)
	}
	j := -1
	if ids != nil {
		if k, dup := ids[l.ID]; dup {
			j = k
		}
		ids[l.ID] = i
	} else {
		j = slices.IndexFunc(lines[:i], func(o Line) bool { return o.ID == l.ID })
	}
	if j >= 0 {
		return &fielderr.Error{Path: p() + ".line_id", Problem: fmt.Sprintf("repeats lines[%d].line_id %s", j, fielderr.Quote(l.ID)), Fix: "give every line its own id"}
	}
	return nil
}

// state is one evaluation's working data; its slices are indexed by line.
type state struct {
	cart Cart
	cur  []int64 // each line's amount left by the promotions so far
	disc []int64 // each line's discount so far

	// scratch, reused by every candidate
	elig    []int   // indices of eligible lines
	weights []int64 // per eligible line
	parts   []int64
	rems    []int64
	units   []int64
	idx     []int

	shipLeft  int64
	shipDisc  int64
	orderDisc int64
	itemDisc  int64

	exclusive   string            // id of the exclusive promotion applied
	first       string            // id of the first promotion applied
	groups      map[string]string // stack group → promotion applied
	campaignUse map[string]int64  // campaign → cost taken in this cart

	allocBuf   []Allocation // backing of the applied promotions' allocations
	gifts      []GiftLine
	applied    []Applied
	notApplied []NotApplied

	buf   []int64 // backing of cur, disc and the per-line scratch
	order []int   // candidates' indices in evaluation order
}

// states keeps evaluations' working data for the next ones: a cart of 100
// candidates would otherwise allocate about 25 KB of it each time. Nothing
// a Result holds points into a state (result copies applied and
// notApplied out; allocBuf and gifts are handed over, never reused).
var states = sync.Pool{New: func() any { return new(state) }}

// newState takes a state from states, emptied and sized for the cart and
// n candidates; release gives it back.
func newState(c *Cart, n int) *state {
	s := states.Get().(*state)
	nl := len(c.Lines)
	buf := slices.Grow(s.buf[:0], 6*nl)[:6*nl]
	clear(buf)
	groups, campaignUse := s.groups, s.campaignUse
	clear(groups)
	clear(campaignUse)
	*s = state{
		cart:        *c,
		buf:         buf,
		cur:         buf[0*nl : 1*nl],
		disc:        buf[1*nl : 2*nl],
		weights:     buf[2*nl : 3*nl],
		parts:       buf[3*nl : 4*nl],
		rems:        buf[4*nl : 5*nl],
		units:       buf[5*nl : 6*nl],
		elig:        slices.Grow(s.elig[:0], nl),
		idx:         slices.Grow(s.idx[:0], nl),
		order:       slices.Grow(s.order[:0], n),
		shipLeft:    c.ShippingFee,
		groups:      groups,
		campaignUse: campaignUse,
		applied:     slices.Grow(s.applied[:0], n),
		notApplied:  slices.Grow(s.notApplied[:0], n+len(c.Codes)),
	}
	for i, l := range c.Lines {
		s.cur[i] = l.Quantity * l.UnitPrice
	}
	return s
}

// release puts s back in states, without what the Result it gave holds
// or the texts of the cart it priced.
func (s *state) release() {
	clear(s.applied)
	clear(s.notApplied)
	s.cart, s.allocBuf, s.gifts = Cart{}, nil, nil
	states.Put(s)
}

// resolveCodes reports the cart's codes that unlock nothing and returns
// the promotions the others unlock, with the code that did.
func (s *state) resolveCodes(candidates []Candidate, lookups []CodeLookup) map[string]string {
	if len(s.cart.Codes) == 0 {
		return nil
	}
	unlocked := make(map[string]string, len(s.cart.Codes))
	for i, raw := range s.cart.Codes {
		code := couponcode.Normalize(raw)
		if code == "" || slices.ContainsFunc(s.cart.Codes[:i], func(o string) bool { return couponcode.Normalize(o) == code }) {
			continue
		}
		var found *CodeLookup
		for j := range lookups {
			if lookups[j].Code == code {
				found = &lookups[j]
				break
			}
		}
		na := NotApplied{Code: code, Reason: ReasonCodeNotFound}
		if found != nil {
			na.PromotionID = found.PromotionID
			if p := findCandidate(candidates, found.PromotionID); p != nil {
				na.CampaignID = p.def.CampaignID
			}
			switch found.Status {
			case CodeFound:
				if p := findCandidate(candidates, found.PromotionID); p == nil || p.def.Kind != KindCode {
					na.Reason = ReasonOutsideSchedule // its promotion is not active
				} else if _, dup := unlocked[found.PromotionID]; !dup {
					unlocked[found.PromotionID] = code
					continue
				} else {
					continue // a second code for the same promotion adds nothing
				}
			case CodeUsedUp:
				na.Reason = ReasonCodeUsedUp
			case CodeNotYours:
				na.Reason = ReasonCodeNotYours
			default:
				na.PromotionID, na.CampaignID = "", ""
			}
		}
		s.notApplied = append(s.notApplied, na)
	}
	return unlocked
}

func findCandidate(candidates []Candidate, id string) *Promotion {
	for i := range candidates {
		if p := candidates[i].Promotion; p != nil && p.def.ID == id {
			return p
		}
	}
	return nil
}

// reject records why a candidate did not apply.
func (s *state) reject(p *Promotion, code string, r Reason, needed, seen int64) {
	s.notApplied = append(s.notApplied, NotApplied{
		PromotionID: p.def.ID, CampaignID: p.def.CampaignID, Code: code,
		Reason: r, Needed: needed, Seen: seen,
	})
}

// consider applies one candidate or records why it does not apply.
func (s *state) consider(c *Candidate, code string, env *Context) {
	p, f := c.Promotion, &c.Facts
	if r, needed, seen := s.precheck(p, f, env); r != "" {
		s.reject(p, code, r, needed, seen)
		return
	}
	if r, needed, seen := s.conditions(p); r != "" {
		s.reject(p, code, r, needed, seen)
		return
	}
	if by := s.stackedOut(p); by != "" {
		na := NotApplied{PromotionID: p.def.ID, CampaignID: p.def.CampaignID, Code: code, Reason: ReasonExcludedByStacking, ByPromotionID: by}
		s.notApplied = append(s.notApplied, na)
		return
	}
	e, r, needed, seen := s.effect(p, f)
	if r != "" {
		s.reject(p, code, r, needed, seen)
		return
	}
	cost := e.lines + e.ship
	if cost > f.RemainingBudget {
		s.reject(p, code, ReasonBudgetExhausted, cost, max(f.RemainingBudget, 0))
		return
	}
	if left := f.RemainingCampaignBudget - s.campaignUse[p.def.CampaignID]; cost > left {
		s.reject(p, code, ReasonBudgetExhausted, cost, max(left, 0))
		return
	}
	s.commit(p, code, e)
}

// precheck runs the checks that do not depend on the cart's lines.
func (s *state) precheck(p *Promotion, f *Facts, env *Context) (Reason, int64, int64) {
	d := &p.def
	switch {
	case d.Currency != s.cart.Currency:
		return ReasonCurrencyMismatch, 0, 0
	case !f.CampaignLive || !p.inWindow(env.Now):
		return ReasonOutsideSchedule, 0, 0
	case !p.channels.empty() && !p.channels.has(s.cart.Channel):
		return ReasonChannelNotAllowed, 0, 0
	}
	switch f.Audience {
	case AudienceNotMember:
		return ReasonNotInAudience, 0, 0
	case AudienceHoldout:
		return ReasonInHoldout, 0, 0
	case AudienceUnavailable:
		return ReasonAudienceUnavailable, 0, 0
	}
	if d.Conditions.FirstOrderOnly {
		switch env.FirstOrder {
		case FirstOrderNo:
			return ReasonFirstOrderOnly, 0, 0
		case FirstOrderUnknown:
			return ReasonFirstOrderUnknown, 0, 0
		}
	}
	switch {
	case f.RemainingUses <= 0:
		return ReasonTotalLimitReached, 1, 0
	case f.RemainingCustomerUses <= 0:
		return ReasonCustomerLimitReached, 1, 0
	}
	if g := d.Effect.Gift; g != nil && f.RemainingStock < g.Quantity {
		return ReasonStockExhausted, g.Quantity, max(f.RemainingStock, 0)
	}
	if d.Effect.FlashPrice != nil {
		if f.RemainingStock <= 0 {
			return ReasonStockExhausted, 1, 0
		}
		if f.RemainingCustomerUnits <= 0 {
			return ReasonCustomerLimitReached, 1, 0
		}
	}
	return "", 0, 0
}

// conditions collects the eligible lines into s.elig and checks the
// quantity and subtotal conditions against the cart as it stands.
func (s *state) conditions(p *Promotion) (Reason, int64, int64) {
	s.elig = s.elig[:0]
	var qty, sub int64
	distinct := p.def.Effect.BuyXGetY != nil && p.distinctGetSet()
	for i := range s.cart.Lines {
		l := &s.cart.Lines[i]
		if !p.eligible(l) || distinct && p.inGetSet(l) {
			continue
		}
		s.elig = append(s.elig, i)
		qty += l.Quantity
		sub += s.cur[i]
	}
	c := &p.def.Conditions
	switch {
	case len(s.elig) == 0:
		return ReasonNoEligibleItems, 0, 0
	case qty < c.MinQuantity:
		return ReasonMinQuantityNotMet, c.MinQuantity, qty
	case sub < c.MinSubtotal:
		return ReasonMinSubtotalNotMet, c.MinSubtotal, sub
	}
	return "", 0, 0
}

// stackedOut returns the promotion that excludes p by stacking, if any.
func (s *state) stackedOut(p *Promotion) string {
	switch {
	case s.exclusive != "":
		return s.exclusive
	case p.def.Stacking == Exclusive && s.first != "":
		return s.first
	case p.def.StackGroup != "":
		return s.groups[p.def.StackGroup]
	}
	return ""
}

// commit applies an effect computed by effect: s.parts holds the line
// parts, indexed like s.elig.
func (s *state) commit(p *Promotion, code string, e effectResult) {
	a := Applied{
		PromotionID: p.def.ID, CampaignID: p.def.CampaignID, Code: code, Scope: e.scope,
		Amount: e.lines, ShippingDiscount: e.ship, Units: e.units, GiftQuantity: e.gift,
	}
	n := 0
	for k := range s.elig {
		if s.parts[k] != 0 {
			n++
		}
	}
	if n > 0 {
		if cap(s.allocBuf)-len(s.allocBuf) < n {
			s.allocBuf = make([]Allocation, 0, max(n, 4*len(s.cart.Lines)))
		}
		start := len(s.allocBuf)
		a.Allocations = s.allocBuf[start : start : start+n] // full slice: an append by the caller copies
		s.allocBuf = s.allocBuf[:start+n]
	}
	for k, i := range s.elig {
		if part := s.parts[k]; part != 0 {
			s.cur[i] -= part
			s.disc[i] += part
			a.Allocations = append(a.Allocations, Allocation{LineID: s.cart.Lines[i].ID, LineIndex: i, Amount: part})
		}
	}
	if e.scope == ScopeOrder {
		s.orderDisc += e.lines
	} else {
		s.itemDisc += e.lines
	}
	s.shipLeft -= e.ship
	s.shipDisc += e.ship
	if e.gift > 0 {
		s.gifts = append(s.gifts, GiftLine{PromotionID: p.def.ID, SKU: p.def.Effect.Gift.SKU, Quantity: e.gift})
	}
	if cost := e.lines + e.ship; cost > 0 {
		if s.campaignUse == nil {
			s.campaignUse = make(map[string]int64, 4)
		}
		s.campaignUse[p.def.CampaignID] += cost
	}
	if s.first == "" {
		s.first = p.def.ID
	}
	if p.def.Stacking == Exclusive {
		s.exclusive = p.def.ID
	}
	if g := p.def.StackGroup; g != "" {
		if s.groups == nil {
			s.groups = make(map[string]string, 4)
		}
		s.groups[g] = p.def.ID
	}
	s.applied = append(s.applied, a)
}

func (s *state) result() Result {
	c := &s.cart
	r := Result{
		Currency:         c.Currency,
		Lines:            make([]LineResult, len(c.Lines)),
		ItemDiscount:     s.itemDisc,
		OrderDiscount:    s.orderDisc,
		ShippingFee:      c.ShippingFee,
		ShippingDiscount: s.shipDisc,
		Gifts:            s.gifts,
		Applied:          append(make([]Applied, 0, len(s.applied)), s.applied...),
		NotApplied:       append(make([]NotApplied, 0, len(s.notApplied)), s.notApplied...),
	}
	for i, l := range c.Lines {
		sub := l.Quantity * l.UnitPrice
		r.Lines[i] = LineResult{LineID: l.ID, Subtotal: sub, Discount: s.disc[i], Final: s.cur[i]}
		r.Subtotal += sub
		r.Total += s.cur[i]
	}
	r.Total += c.ShippingFee - s.shipDisc
	return r
}
