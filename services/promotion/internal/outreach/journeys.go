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
)

// TemplateDef is a journey's template for one channel and locale ("" is
// the fallback for customers whose locale has none).
type TemplateDef struct {
	Channel Channel
	Locale  string
	Template
}

// JourneyDef is a journey as stored: its rules, name and templates.
type JourneyDef struct {
	Journey
	DisplayName string
	Templates   []TemplateDef
	CreateTime  time.Time
}

// JourneyStore keeps journey definitions.
type JourneyStore interface {
	// CreateJourney stores d, or fails with ErrJourneyAlreadyExists.
	CreateJourney(ctx context.Context, d JourneyDef) error
	// GetJourney returns a journey or ErrJourneyNotFound.
	GetJourney(ctx context.Context, id string) (JourneyDef, error)
	// ListJourneys returns up to limit journeys with ids after `after`,
	// in id order.
	ListJourneys(ctx context.Context, after string, limit int) ([]JourneyDef, error)
}

// JourneyPages are ListJourneys' page sizes.
var JourneyPages = paging.Sizes{Default: 50, Max: 500}

var journeyIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// Journeys is the journey use cases over a store.
type Journeys struct {
	Store JourneyStore
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
	d.CreateTime = j.Clock().UTC()
	if err := j.Store.CreateJourney(ctx, d); err != nil {
		return JourneyDef{}, err
	}
	return d, nil
}

// List returns a page of journeys.
func (j Journeys) List(ctx context.Context, pageSize int, token string) ([]JourneyDef, string, error) {
	p, err := paging.Parse(JourneyPages, pageSize, token, paging.For("ListJourneys"))
	if err != nil {
		return nil, "", err
	}
	ds, err := j.Store.ListJourneys(ctx, p.After, p.Limit())
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
