package outreach

import (
	"context"
	"math"
	"testing"
	"time"
)

type figuresFunc func(ids []string, window time.Duration) Figures

func (f figuresFunc) OutreachFigures(_ context.Context, ids []string, window time.Duration) (Figures, error) {
	return f(ids, window), nil
}

type journeyList []JourneyDef

func (l journeyList) GetJourney(_ context.Context, id string) (JourneyDef, error) {
	for _, j := range l {
		if j.ID == id {
			return j, nil
		}
	}
	return JourneyDef{}, ErrJourneyNotFound
}
func (l journeyList) ListAllJourneys(_ context.Context, after string, limit int, _ bool) ([]JourneyDef, error) {
	var out []JourneyDef
	for _, j := range l {
		if j.ID > after && len(out) < limit {
			out = append(out, j)
		}
	}
	return out, nil
}

// TestReport sums the store's counts into a report and computes the lift
// against the control group: 30 of 100 treatment messages converted, 20
// of 100 control ones, so 10 points ± 1.96 × √(.3×.7/100 + .2×.8/100).
func TestReport(t *testing.T) {
	var asked []string
	r := Reports{
		Journeys: journeyList{{Journey: Journey{ID: "a", Campaign: "spring"}}, {Journey: Journey{ID: "b"}}, {Journey: Journey{ID: "c", Campaign: "spring"}}},
		Holdout:  func(context.Context, string) (int, error) { return 10, nil },
		Store: figuresFunc(func(ids []string, _ time.Duration) Figures {
			asked = ids
			return Figures{
				States: []StateCount{
					{State: StateSent, Channel: ChannelEmail, Count: 60}, {State: StateDelivered, Channel: ChannelEmail, Count: 30},
					{State: StateSent, Channel: ChannelSMS, Count: 10}, {State: StateSuppressed, Reason: ReasonHoldout, Count: 100},
					{State: StateSuppressed, Reason: ReasonCap, Count: 5}, {State: StateHeld, Count: 2}, {State: StateFailed, Count: 1},
					{State: StateDead, Count: 4},
				},
				Actions:   map[Action]int64{ActionDelivered: 30, ActionOpened: 20, ActionClicked: 8, ActionUnsubscribed: 1},
				Treatment: GroupFigures{Messages: 100, Converters: 30, Orders: 35, Revenue: 90000},
				Control:   GroupFigures{Messages: 100, Converters: 20, Orders: 21, Revenue: 50000},
			}
		}),
	}
	got, err := r.Campaign(context.Background(), "spring", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != "a" || asked[1] != "c" {
		t.Errorf("journeys of the campaign: got %v, want [a c]", asked)
	}
	if got.Window != DefaultAttributionWindow || got.Triggered != 212 || got.Sent != 100 || got.Pending != 3 || got.Dead != 4 ||
		got.Suppressed[ReasonHoldout] != 100 || got.Suppressed[ReasonCap] != 5 || got.SentByChannel[ChannelEmail] != 90 ||
		got.SentByChannel[ChannelSMS] != 10 || got.Delivered != 30 || got.Opened != 20 || got.Clicked != 8 || got.Unsubscribe != 1 {
		t.Errorf("counts: got %+v", got)
	}
	half := 1.959964 * math.Sqrt(.3*.7/100+.2*.8/100)
	if !got.HasControl || math.Abs(got.Lift-.1) > 1e-12 || math.Abs(got.LiftLow-(.1-half)) > 1e-12 || math.Abs(got.LiftHigh-(.1+half)) > 1e-12 {
		t.Errorf("lift: got %v [%v, %v], want 0.1 ± %v", got.Lift, got.LiftLow, got.LiftHigh, half)
	}
	if _, err := r.Journey(context.Background(), "b", 91*24*time.Hour); err == nil {
		t.Error("a window of 91 days was accepted")
	}
	if got, err := r.Journey(context.Background(), "b", time.Hour); err != nil || got.HasControl {
		t.Errorf("journey without a campaign: got %+v, %v; want no control group", got, err)
	}
}
