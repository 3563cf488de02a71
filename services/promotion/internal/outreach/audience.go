package outreach

import (
	"context"
	"fmt"
	"time"
)

// AudienceChange is a customer entering or leaving a segmentation
// audience at a recompute.
type AudienceChange struct {
	Operation  string // the recompute's operation id
	Audience   string
	CustomerID string
	Entered    bool
	At         time.Time // the recompute's as-of time
}

// ChangeSource lists segmentation's audience changes of the recomputes
// after one ("" for all it keeps), a page at a time.
type ChangeSource interface {
	Changes(ctx context.Context, afterOperation string, audiences []string, pageToken string) ([]AudienceChange, string, error)
}

// CursorStore keeps how far a trigger source has been read.
type CursorStore interface {
	TriggerCursor(ctx context.Context, name string) (string, error)
	SetTriggerCursor(ctx context.Context, name, value string) error
}

// AudienceTriggers makes the messages of journeys triggered by entering or
// leaving an audience: it reads the audience changes of the recomputes
// since the last it read and creates one message per journey, customer and
// recompute. Messages are due at once (plus the journey's delay); the
// dispatcher holds them past the customer's quiet hours. Reading a change
// twice (a crash before the cursor moved) makes no second message.
type AudienceTriggers struct {
	Journeys JourneyLister
	Changes  ChangeSource
	Messages MessageStore
	Cursors  CursorStore
	Clock    func() time.Time
}

// audienceCursor names the cursor of the audience changes read.
const audienceCursor = "audience-changes"

// RunOnce reads the changes since the cursor and returns how many
// messages it created.
func (a AudienceTriggers) RunOnce(ctx context.Context) (int, error) {
	byAudience, err := a.audienceJourneys(ctx)
	if err != nil || len(byAudience) == 0 {
		return 0, err
	}
	audiences := make([]string, 0, len(byAudience))
	for aud := range byAudience {
		audiences = append(audiences, aud)
	}
	after, err := a.Cursors.TriggerCursor(ctx, audienceCursor)
	if err != nil {
		return 0, err
	}
	created, last, token := 0, after, ""
	for {
		changes, next, err := a.Changes.Changes(ctx, after, audiences, token)
		if err != nil {
			return created, err
		}
		for _, c := range changes {
			n, err := a.trigger(ctx, byAudience[c.Audience], c)
			if err != nil {
				return created, err
			}
			created += n
			last = max(last, c.Operation)
		}
		if token = next; token == "" {
			break
		}
	}
	if last != after {
		if err := a.Cursors.SetTriggerCursor(ctx, audienceCursor, last); err != nil {
			return created, err
		}
	}
	return created, nil
}

// trigger creates the messages of the journeys js that c triggers.
func (a AudienceTriggers) trigger(ctx context.Context, js []Journey, c AudienceChange) (int, error) {
	now := a.Clock().UTC()
	n := 0
	for _, j := range js {
		if (j.Trigger.Kind == TriggerAudienceEntered) != c.Entered {
			continue
		}
		m := NewMessage(j, c.CustomerID, AudienceOccurrence(c.Operation), now, time.UTC, QuietHours{}, now)
		ok, err := a.Messages.CreateMessage(ctx, m)
		if err != nil {
			return n, fmt.Errorf("outreach: journey %s for %s: %w", j.ID, c.CustomerID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// audienceJourneys returns the journeys with audience triggers by
// audience.
func (a AudienceTriggers) audienceJourneys(ctx context.Context) (map[string][]Journey, error) {
	js, err := journeysOf(ctx, a.Journeys, TriggerAudienceEntered, TriggerAudienceLeft)
	if err != nil {
		return nil, err
	}
	out := map[string][]Journey{}
	for _, d := range js {
		out[d.Trigger.Audience] = append(out[d.Trigger.Audience], d.Journey)
	}
	return out, nil
}
