package pricing

import (
	"cmp"
	"slices"
	"time"
)

// Promotion is a validated Definition in the form Evaluate uses: sets
// instead of lists, the time zone loaded, tiers sorted. It is immutable and
// safe for concurrent use; the service keeps its active promotions
// compiled in memory and recompiles one when it changes.
type Promotion struct {
	def Definition

	includeSKU, includeCat set
	excludeSKU, excludeCat set
	getSKU, getCat         set
	channels               set
	hasInclude             bool // an include list is set
	distinctGet            bool // a buy-X-get-Y names its own get set
	excludes               bool // an exclude list is set

	window   *Window
	loc      *time.Location
	weekdays uint8 // bit d set: time.Weekday(d) allowed; 0 = every day
	tiers    []Tier
}

// set is a string set. Small sets (the usual few SKUs or categories) are
// scanned, which beats hashing for a handful of short strings; large ones
// are hashed. The zero value is empty.
type set struct {
	small []string
	large map[string]struct{}
}

// smallSet is the largest set that is scanned rather than hashed.
const smallSet = 8

func newSet(xs []string) set {
	if len(xs) <= smallSet {
		return set{small: slices.Clone(xs)}
	}
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return set{large: m}
}

func (s *set) empty() bool { return len(s.small) == 0 && len(s.large) == 0 }

func (s *set) has(x string) bool {
	if s.large != nil {
		_, ok := s.large[x]
		return ok
	}
	for _, y := range s.small {
		if x == y {
			return true
		}
	}
	return false
}

// Compile validates d (see Validate) and compiles it.
func Compile(d Definition) (*Promotion, error) {
	if err := Validate(d); err != nil {
		return nil, err
	}
	p := &Promotion{
		def:        cloneDefinition(d),
		includeSKU: newSet(d.Conditions.IncludeSKUs),
		includeCat: newSet(d.Conditions.IncludeCategories),
		excludeSKU: newSet(d.Conditions.ExcludeSKUs),
		excludeCat: newSet(d.Conditions.ExcludeCategories),
		channels:   newSet(d.Conditions.Channels),
	}
	if b := d.Effect.BuyXGetY; b != nil {
		p.getSKU, p.getCat = newSet(b.GetSKUs), newSet(b.GetCategories)
	}
	p.hasInclude = !p.includeSKU.empty() || !p.includeCat.empty()
	p.excludes = !p.excludeSKU.empty() || !p.excludeCat.empty()
	p.distinctGet = !p.getSKU.empty() || !p.getCat.empty()
	if w := p.def.Conditions.Window; w != nil {
		p.window = w
		p.loc = time.UTC
		if w.TimeZone != "" {
			loc, err := time.LoadLocation(w.TimeZone)
			if err != nil { // Validate loaded it already
				return nil, err
			}
			p.loc = loc
		}
		for _, wd := range w.Weekdays {
			p.weekdays |= 1 << uint(wd)
		}
	}
	if t := d.Effect.Tiered; t != nil && len(t.Tiers) > 0 {
		p.tiers = slices.Clone(t.Tiers)
		slices.SortStableFunc(p.tiers, func(a, b Tier) int { return cmp.Compare(a.Threshold, b.Threshold) })
	}
	return p, nil
}

// MustCompile is Compile for definitions known to be valid (tests,
// fixtures); it panics on an invalid one.
func MustCompile(d Definition) *Promotion {
	p, err := Compile(d)
	if err != nil {
		panic(err)
	}
	return p
}

// ID returns the promotion's id.
func (p *Promotion) ID() string { return p.def.ID }

// CampaignID returns the id of the promotion's campaign.
func (p *Promotion) CampaignID() string { return p.def.CampaignID }

// Kind returns how the promotion is triggered.
func (p *Promotion) Kind() Kind { return p.def.Kind }

// Definition returns a copy of the definition it was compiled from.
func (p *Promotion) Definition() Definition { return cloneDefinition(p.def) }

// cloneDefinition copies d deeply enough that the caller's slices and
// pointers are not shared.
func cloneDefinition(d Definition) Definition {
	c := d.Conditions
	c.IncludeSKUs = slices.Clone(c.IncludeSKUs)
	c.IncludeCategories = slices.Clone(c.IncludeCategories)
	c.ExcludeSKUs = slices.Clone(c.ExcludeSKUs)
	c.ExcludeCategories = slices.Clone(c.ExcludeCategories)
	c.Channels = slices.Clone(c.Channels)
	if c.Window = clonePtr(c.Window); c.Window != nil {
		c.Window.Weekdays = slices.Clone(c.Window.Weekdays)
	}
	d.Conditions = c
	e := d.Effect
	e.PercentOff, e.AmountOff, e.Gift = clonePtr(e.PercentOff), clonePtr(e.AmountOff), clonePtr(e.Gift)
	e.FreeShipping, e.FlashPrice = clonePtr(e.FreeShipping), clonePtr(e.FlashPrice)
	if e.Tiered != nil {
		e.Tiered = &Tiered{Tiers: slices.Clone(e.Tiered.Tiers), Repeat: clonePtr(e.Tiered.Repeat)}
	}
	if e.BuyXGetY = clonePtr(e.BuyXGetY); e.BuyXGetY != nil {
		e.BuyXGetY.GetSKUs = slices.Clone(e.BuyXGetY.GetSKUs)
		e.BuyXGetY.GetCategories = slices.Clone(e.BuyXGetY.GetCategories)
	}
	d.Effect = e
	return d
}

// clonePtr returns a pointer to a shallow copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// eligible reports whether a line meets the SKU and category rules.
func (p *Promotion) eligible(l *Line) bool {
	if p.hasInclude {
		if !p.includeSKU.has(l.SKU) && !p.includeCat.has(l.Category) {
			return false
		}
	}
	if p.excluded(l) {
		return false
	}
	if f := p.def.Effect.FlashPrice; f != nil && l.SKU != f.SKU {
		return false
	}
	return true
}

// excluded reports whether a line is on an exclusion list.
func (p *Promotion) excluded(l *Line) bool {
	return p.excludes && (p.excludeSKU.has(l.SKU) || p.excludeCat.has(l.Category))
}

// inGetSet reports whether a line is in a buy-X-get-Y's distinct get set.
func (p *Promotion) inGetSet(l *Line) bool {
	return p.getSKU.has(l.SKU) || p.getCat.has(l.Category)
}

// distinctGetSet reports whether the promotion names its own get set.
func (p *Promotion) distinctGetSet() bool { return p.distinctGet }

// inWindow reports whether now is inside the promotion's window.
func (p *Promotion) inWindow(now time.Time) bool {
	w := p.window
	if w == nil {
		return true
	}
	if !w.From.IsZero() && now.Before(w.From) {
		return false
	}
	if !w.Until.IsZero() && !now.Before(w.Until) {
		return false
	}
	local := now.In(p.loc)
	if p.weekdays != 0 && p.weekdays&(1<<uint(local.Weekday())) == 0 {
		return false
	}
	if w.DailyFrom == 0 && w.DailyUntil == 0 {
		return true
	}
	m := local.Hour()*60 + local.Minute()
	if w.DailyFrom <= w.DailyUntil {
		return m >= w.DailyFrom && m < w.DailyUntil
	}
	return m >= w.DailyFrom || m < w.DailyUntil
}
