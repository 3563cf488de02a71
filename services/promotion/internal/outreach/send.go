package outreach

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Errors of API-triggered messages.
var (
	ErrNotAPITriggered  = errors.New("outreach: journey is not triggered by the API")
	ErrMissingVariables = errors.New("outreach: missing template variables")
)

// Limits of a SendRequest.
const (
	MaxOccurrenceID = 200
	MaxVariableLen  = 2000
)

// SendRequest asks for the message of an API-triggered journey to one
// customer about one occurrence.
type SendRequest struct {
	JourneyID    string
	CustomerID   string
	OccurrenceID string
	Vars         map[string]string
}

// Sends creates the messages of API-triggered journeys.
type Sends struct {
	Journeys JourneyStore
	Messages MessageStore
	Clock    func() time.Time
}

// Send creates r's message, due after the journey's delay (the dispatcher
// holds it past quiet hours), with the values of the journey's variables;
// variables it does not declare are dropped. The occurrence id makes it
// idempotent: a second call returns the first message, created false.
func (s Sends) Send(ctx context.Context, r SendRequest) (Message, bool, error) {
	if err := r.check(); err != nil {
		return Message{}, false, err
	}
	d, err := s.Journeys.GetJourney(ctx, r.JourneyID)
	if err != nil {
		return Message{}, false, err
	}
	vars, err := d.bind(r.Vars)
	if err != nil {
		return Message{}, false, err
	}
	now := s.Clock().UTC()
	m := NewMessage(d.Journey, r.CustomerID, APIOccurrence(r.OccurrenceID), now, time.UTC, QuietHours{}, now)
	m.Vars = vars
	created, err := s.Messages.CreateMessage(ctx, m)
	if err != nil || created {
		return m, created, err
	}
	m, err = s.Messages.GetMessage(ctx, m.ID)
	return m, false, err
}

func (r SendRequest) check() error {
	if r.CustomerID == "" || len(r.CustomerID) > 200 {
		return fielderr.New("customer_id", "must be 1 to 200 characters")
	}
	if r.OccurrenceID == "" || len(r.OccurrenceID) > MaxOccurrenceID || strings.IndexFunc(r.OccurrenceID, notPrintable) >= 0 {
		return &fielderr.Error{Path: "occurrence_id", Problem: fmt.Sprintf("must be 1 to %d printable characters", MaxOccurrenceID),
			Fix: "name what the message is about, such as the order or ticket id"}
	}
	for name, v := range r.Vars {
		if len(v) > MaxVariableLen {
			return fielderr.New("variables["+name+"]", "must be at most %d characters, got %d", MaxVariableLen, len(v))
		}
	}
	return nil
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// bind returns the values of d's variables from given, or an error naming
// those given lacks.
func (d JourneyDef) bind(given map[string]string) (map[string]string, error) {
	if d.Trigger.Kind != TriggerAPI {
		return nil, fmt.Errorf("%w: journey %s has trigger %s", ErrNotAPITriggered, d.ID, d.Trigger.Kind)
	}
	vars := make(map[string]string, len(d.Variables))
	var missing []string
	for _, name := range d.Variables {
		v, ok := given[name]
		if !ok {
			missing = append(missing, name)
		}
		vars[name] = v
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, &fielderr.Error{Path: "variables", Problem: "lacks " + strings.Join(missing, ", "),
			Fix: "give a value for each variable journey " + d.ID + " declares: " + strings.Join(d.Variables, ", "), Err: ErrMissingVariables}
	}
	return vars, nil
}
