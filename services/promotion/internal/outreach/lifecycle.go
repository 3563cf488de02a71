package outreach

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// JourneyState is whether a journey triggers messages.
type JourneyState int

// The journey states.
const (
	JourneyStateUnspecified JourneyState = iota
	// JourneyActive: its triggers create messages and they are sent.
	JourneyActive
	// JourneyPaused: its triggers create no messages; its unsent messages
	// keep their state and due time and wait (the dispatcher does not
	// claim them) until it resumes, then go out under the caps and quiet
	// hours of that moment.
	JourneyPaused
	// JourneyDeleted: soft-deleted; it triggers nothing, its unsent
	// messages were suppressed and its messages are kept.
	JourneyDeleted
)

var journeyStateNames = [...]string{"", "active", "paused", "deleted"}

// String returns the state's lower-case name.
func (s JourneyState) String() string {
	if s < 0 || int(s) >= len(journeyStateNames) {
		return fmt.Sprintf("journey_state(%d)", int(s))
	}
	return journeyStateNames[s]
}

// ETag is the journey's entity tag: it changes with every change.
func (d JourneyDef) ETag() string { return strconv.Quote(strconv.FormatInt(d.Version, 10)) }

// JourneyFields are the fields Update may change, as the API names them.
var JourneyFields = []string{"display_name", "trigger", "delay", "channels", "transactional", "campaign", "templates", "coupon_promotion"}

// Update copies the fields of paths from in to journey id and validates
// the result as Create does. A non-empty etag makes the change conditional.
func (j Journeys) Update(ctx context.Context, id, etag string, paths []string, in JourneyDef) (JourneyDef, error) {
	if len(paths) == 0 {
		return JourneyDef{}, &fielderr.Error{Path: "update_mask", Problem: "is empty", Fix: "name the fields to change, e.g. templates, channels"}
	}
	return j.change(ctx, id, etag, func(d *JourneyDef) error {
		if d.State == JourneyDeleted {
			return fmt.Errorf("%w: %s", ErrJourneyDeleted, id)
		}
		for i, p := range paths {
			if outputOnly[p] {
				continue // as AIP-203 asks: a mask derived from a whole journey names them
			}
			if err := applyField(d, in, p); err != nil {
				return fielderr.New(fmt.Sprintf("update_mask.paths[%d]", i), "%s cannot be updated; updatable: %s", fielderr.Quote(p), joinFields())
			}
		}
		if err := d.Check(); err != nil {
			return err
		}
		return j.checkCoupon(ctx, d.Coupon)
	})
}

// outputOnly are the journey's fields an update ignores: its name, the
// etag that guards the change, and what the service sets.
var outputOnly = map[string]bool{"name": true, "journey_id": true, "etag": true, "state": true, "create_time": true,
	"update_time": true, "delete_time": true}

// applyField copies one field named as the API does from in to d.
func applyField(d *JourneyDef, in JourneyDef, field string) error {
	switch field {
	case "display_name":
		d.DisplayName = in.DisplayName
	case "trigger":
		d.Trigger = in.Trigger
	case "delay":
		d.Delay = in.Delay
	case "channels":
		d.Channels = in.Channels
	case "transactional":
		d.Transactional = in.Transactional
	case "campaign":
		d.Campaign = in.Campaign
	case "templates":
		d.Templates = in.Templates
	case "coupon_promotion":
		d.Coupon = in.Coupon
	default:
		return errors.New("not updatable")
	}
	return nil
}

func joinFields() string { return strings.Join(JourneyFields, ", ") }

// Pause stops an active journey; pausing a paused one changes nothing.
func (j Journeys) Pause(ctx context.Context, id, etag string) (JourneyDef, error) {
	return j.move(ctx, id, etag, JourneyPaused)
}

// Resume makes a paused journey active; resuming an active one changes
// nothing.
func (j Journeys) Resume(ctx context.Context, id, etag string) (JourneyDef, error) {
	return j.move(ctx, id, etag, JourneyActive)
}

// move sets an active or paused journey's state to to.
func (j Journeys) move(ctx context.Context, id, etag string, to JourneyState) (JourneyDef, error) {
	return j.change(ctx, id, etag, func(d *JourneyDef) error {
		switch d.State {
		case JourneyDeleted:
			return fmt.Errorf("%w: %s", ErrJourneyDeleted, id)
		case to:
			return errUnchanged
		}
		d.State = to
		return nil
	})
}

// Delete soft-deletes a journey (see JourneyDeleted); a deleted one is
// ErrJourneyNotFound.
func (j Journeys) Delete(ctx context.Context, id, etag string) (JourneyDef, error) {
	return j.change(ctx, id, etag, func(d *JourneyDef) error {
		if d.State == JourneyDeleted {
			return fmt.Errorf("%w: %s was deleted", ErrJourneyNotFound, id)
		}
		d.State = JourneyDeleted // change sets the delete time
		return nil
	})
}

// errUnchanged tells change that fn left the journey as it was.
var errUnchanged = errors.New("unchanged")

// changeTries is how many times change reads and saves a journey that
// other changes keep overtaking, when no etag was sent.
const changeTries = 5

// change reads journey id, checks etag (when set), applies fn and saves
// the result guarded by the version read. Without an etag, a lost race is
// retried on the new version; with one, it is ErrETagMismatch.
func (j Journeys) change(ctx context.Context, id, etag string, fn func(*JourneyDef) error) (JourneyDef, error) {
	for range changeTries {
		d, err := j.Store.GetJourney(ctx, id)
		if err != nil {
			return JourneyDef{}, err
		}
		if etag != "" && etag != d.ETag() {
			return JourneyDef{}, fmt.Errorf("%w: journey %s is at %s, not %s", ErrETagMismatch, id, d.ETag(), etag)
		}
		version := d.Version
		switch err := fn(&d); {
		case errors.Is(err, errUnchanged):
			return d, nil
		case err != nil:
			return JourneyDef{}, err
		}
		d.UpdateTime = j.Clock().UTC()
		if d.State == JourneyDeleted && d.DeleteTime.IsZero() {
			d.DeleteTime = d.UpdateTime
		}
		err = j.Store.SaveJourney(ctx, d, version)
		if err == nil {
			d.Version = version + 1
			return d, nil
		}
		if !errors.Is(err, ErrJourneyChanged) {
			return JourneyDef{}, err
		}
		if etag != "" {
			return JourneyDef{}, fmt.Errorf("%w: journey %s changed meanwhile", ErrETagMismatch, id)
		}
	}
	return JourneyDef{}, fmt.Errorf("%w: journey %s kept changing; read it again and retry", ErrETagMismatch, id)
}
