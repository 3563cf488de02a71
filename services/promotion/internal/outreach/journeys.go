package outreach

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// Journey errors.
var (
	ErrJourneyNotFound      = errors.New("outreach: journey not found")
	ErrJourneyAlreadyExists = errors.New("outreach: journey already exists")
	// ErrJourneyDeleted: a deleted journey cannot change.
	ErrJourneyDeleted = errors.New("outreach: journey deleted")
	// ErrETagMismatch: the etag sent is not the journey's current one.
	ErrETagMismatch = errors.New("outreach: etag mismatch")
	// ErrJourneyChanged is the store's answer to a save whose version is
	// no longer the stored one (another change came first).
	ErrJourneyChanged = errors.New("outreach: journey changed concurrently")
)

// TemplateDef is a journey's template for one channel and locale ("" is
// the fallback for customers whose locale has none).
type TemplateDef struct {
	Channel Channel
	Locale  string
	Template
}

// JourneyDef is a journey as stored: its rules, name and templates, and
// its lifecycle (kept by the store beside the definition).
type JourneyDef struct {
	Journey
	DisplayName string
	Templates   []TemplateDef
	CreateTime  time.Time
	State       JourneyState `json:"-"`
	// Version counts the journey's changes; its etag is made from it.
	Version    int64     `json:"-"`
	UpdateTime time.Time `json:"-"`
	DeleteTime time.Time `json:"-"` // zero unless deleted
}

// JourneyStore keeps journey definitions.
type JourneyStore interface {
	// CreateJourney stores d, or fails with ErrJourneyAlreadyExists.
	CreateJourney(ctx context.Context, d JourneyDef) error
	// GetJourney returns a journey in any state, or ErrJourneyNotFound.
	GetJourney(ctx context.Context, id string) (JourneyDef, error)
	// ListJourneys returns up to limit journeys that trigger messages
	// (active: neither paused nor deleted) with ids after `after`, in id
	// order. Every trigger runner reads journeys through it.
	ListJourneys(ctx context.Context, after string, limit int) ([]JourneyDef, error)
	// ListAllJourneys is ListJourneys for people: active and paused
	// journeys, and deleted ones when showDeleted.
	ListAllJourneys(ctx context.Context, after string, limit int, showDeleted bool) ([]JourneyDef, error)
	// SaveJourney replaces the stored journey d.ID with d (definition,
	// state and times) and version version+1, if its version is still
	// version, else ErrJourneyChanged. Saving it deleted also suppresses
	// its unsent messages (ReasonJourneyDeleted) in the same transaction,
	// recording their state change at d.UpdateTime.
	SaveJourney(ctx context.Context, d JourneyDef, version int64) error
}

// JourneyLister lists the journeys that trigger messages: all a trigger
// runner needs of a JourneyStore.
type JourneyLister interface {
	ListJourneys(ctx context.Context, after string, limit int) ([]JourneyDef, error)
}

// JourneyReader reads journeys in any state: what a report needs of a
// JourneyStore (a campaign's paused and deleted journeys still count).
type JourneyReader interface {
	GetJourney(ctx context.Context, id string) (JourneyDef, error)
	ListAllJourneys(ctx context.Context, after string, limit int, showDeleted bool) ([]JourneyDef, error)
}

// JourneyPages are ListJourneys' page sizes.
var JourneyPages = paging.Sizes{Default: 50, Max: 500}

var journeyIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// CouponPools tells what a journey's coupon pool names: found is false
// when no such promotion exists, codes whether it is a code promotion.
type CouponPools interface {
	CouponPool(ctx context.Context, p CouponPool) (found, codes bool, err error)
}

// Journeys is the journey use cases over a store.
type Journeys struct {
	Store JourneyStore
	// Pools checks coupon pools when a journey is saved.
	Pools CouponPools
	Clock func() time.Time
}

// Check validates d: its rules, its templates (each compiled and rendered
// with SampleData) and that every channel of its order has a fallback
// template.
func (d JourneyDef) Check() error {
	if !journeyIDPattern.MatchString(d.ID) {
		return fielderr.New("journey_id", "must be 1 to 63 lower-case letters, digits and hyphens, starting with a letter")
	}
	if len(d.DisplayName) > 200 {
		return fielderr.New("journey.display_name", "must be at most 200 characters")
	}
	if err := d.Journey.Check(); err != nil {
		var fe *fielderr.Error
		if errors.As(err, &fe) {
			out := *fe
			out.Path = "journey." + fe.Path
			return &out
		}
		return err
	}
	fallback := map[Channel]bool{}
	for i, t := range d.Templates {
		path := fmt.Sprintf("journey.templates[%d]", i)
		if !t.Channel.Valid() {
			return fielderr.New(path+".channel", "must be one of %s", channelList())
		}
		if _, err := CompileWith(path, t.Template, SampleFor(d.Variables)); err != nil {
			return err
		}
		if t.Locale == "" {
			fallback[t.Channel] = true
		}
	}
	for i, c := range d.Channels {
		if !fallback[c] {
			return &fielderr.Error{Path: fmt.Sprintf("journey.channels[%d]", i), Problem: fmt.Sprintf("has no template for %s", c),
				Fix: "add a template for the channel with an empty locale (the fallback)", Err: ErrInvalidTemplate}
		}
	}
	return nil
}

// Create validates and stores a new journey.
func (j Journeys) Create(ctx context.Context, d JourneyDef) (JourneyDef, error) {
	if err := d.Check(); err != nil {
		return JourneyDef{}, err
	}
	if err := j.checkCoupon(ctx, d.Coupon); err != nil {
		return JourneyDef{}, err
	}
	d.CreateTime = j.Clock().UTC()
	d.UpdateTime, d.State, d.Version, d.DeleteTime = d.CreateTime, JourneyActive, 1, time.Time{}
	if err := j.Store.CreateJourney(ctx, d); err != nil {
		return JourneyDef{}, err
	}
	return d, nil
}

// List returns a page of journeys, active and paused, and deleted ones
// when showDeleted.
func (j Journeys) List(ctx context.Context, pageSize int, token string, showDeleted bool) ([]JourneyDef, string, error) {
	p, err := paging.Parse(JourneyPages, pageSize, token, paging.For("ListJourneys").With("show_deleted", fmt.Sprint(showDeleted)))
	if err != nil {
		return nil, "", err
	}
	ds, err := j.Store.ListAllJourneys(ctx, p.After, p.Limit(), showDeleted)
	if err != nil {
		return nil, "", err
	}
	ds, next := paging.Cut(p, ds, func(d JourneyDef) string { return d.ID })
	return ds, next, nil
}

// Content implements ContentSource: the journey with its
// templates compiled.
func (j Journeys) Content(ctx context.Context, id string) (Content, error) {
	d, err := j.Store.GetJourney(ctx, id)
	if err != nil {
		return Content{}, err
	}
	return d.content()
}

func (d JourneyDef) content() (Content, error) {
	c := Content{Journey: d.Journey, Templates: map[TemplateKey]*Compiled{}}
	for i, t := range d.Templates {
		compiled, err := CompileWith(fmt.Sprintf("templates[%d]", i), t.Template, SampleFor(d.Variables))
		if err != nil {
			return Content{}, err
		}
		c.Templates[TemplateKey{t.Channel, t.Locale}] = compiled
	}
	return c, nil
}

// Preview renders a journey's template for channel and locale with data
// (SampleData with sample variables when nil).
func (j Journeys) Preview(ctx context.Context, id string, ch Channel, locale string, data *Data) (Rendered, error) {
	d, err := j.Store.GetJourney(ctx, id)
	if err != nil {
		return Rendered{}, err
	}
	c, err := d.content()
	if err != nil {
		return Rendered{}, err
	}
	t, ok := c.template(ch, locale)
	if !ok {
		return Rendered{}, &fielderr.Error{Path: "channel", Problem: fmt.Sprintf("journey %s has no template for %s", id, ch),
			Fix: "name one of the journey's channels", Err: ErrInvalidTemplate}
	}
	if data == nil {
		sample := SampleFor(d.Variables)
		data = &sample
	}
	return t.Render(*data)
}

// checkCoupon checks that p, when named, is a code promotion.
func (j Journeys) checkCoupon(ctx context.Context, p CouponPool) error {
	if p.IsZero() {
		return nil
	}
	found, codes, err := j.Pools.CouponPool(ctx, p)
	switch {
	case err != nil:
		return err
	case !found:
		return &fielderr.Error{Path: "journey.coupon_promotion", Problem: fmt.Sprintf("names campaigns/%s/promotions/%s, which does not exist", p.CampaignID, p.PromotionID),
			Fix: "name an existing code promotion, or leave it empty"}
	case !codes:
		return &fielderr.Error{Path: "journey.coupon_promotion", Problem: "names an automatic promotion, which has no codes",
			Fix: "name a promotion of kind CODE whose codes were generated or imported"}
	}
	return nil
}
