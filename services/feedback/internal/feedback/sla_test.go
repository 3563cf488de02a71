package feedback

import (
	"slices"
	"testing"
	"time"
)

// history builds a status history from "15:04 status" steps on 2026-12-02.
func history(t *testing.T, steps ...string) []StatusChange {
	t.Helper()
	var h []StatusChange
	for _, s := range steps {
		h = append(h, StatusChange{At: at(t, time.UTC, "2026-12-02 "+s[:5]), Status: Status(s[6:])})
	}
	return h
}

func TestMeasurePauses(t *testing.T) {
	steps := []string{"09:00 open", "10:00 pending", "13:00 on_hold", "14:00 open"}
	tests := []struct {
		name             string
		pauseOnHold      bool
		wait, hold, work time.Duration
		resolution       time.Duration
		wantDue          string
	}{
		{"pending and on hold pause", true, 3 * time.Hour, time.Hour, 2 * time.Hour, 4 * time.Hour, "2026-12-02 17:00"},
		{"only pending pauses", false, 3 * time.Hour, 0, 3 * time.Hour, 4 * time.Hour, "2026-12-02 16:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Policy{Calendar: weekdays(time.UTC), PauseOnHold: tt.pauseOnHold, Resolution: tt.resolution}
			c := p.Measure(history(t, steps...), at(t, time.UTC, "2026-12-02 15:00"))
			if c.RequesterWait != tt.wait || c.OnHold != tt.hold || c.AgentWork != tt.work {
				t.Fatalf("got wait %s, hold %s, work %s; want %s, %s, %s", c.RequesterWait, c.OnHold, c.AgentWork, tt.wait, tt.hold, tt.work)
			}
			if want := at(t, time.UTC, tt.wantDue); !c.ResolutionDue.Equal(want) {
				t.Fatalf("resolution due %s, want %s", c.ResolutionDue, want)
			}
		})
	}
}

func TestMeasureDueWhilePaused(t *testing.T) {
	p := &Policy{Resolution: 2 * time.Hour}
	// One hour worked, then pending: the clock stops short of its target.
	c := p.Measure(history(t, "09:00 open", "10:00 pending"), at(t, time.UTC, "2026-12-02 15:00"))
	if !c.ResolutionDue.IsZero() {
		t.Fatalf("resolution due %s while paused, want none", c.ResolutionDue)
	}
	// Target crossed before the pause: the due time stays where it fell.
	c = p.Measure(history(t, "09:00 open", "12:00 pending"), at(t, time.UTC, "2026-12-02 15:00"))
	if want := at(t, time.UTC, "2026-12-02 11:00"); !c.ResolutionDue.Equal(want) {
		t.Fatalf("resolution due %s, want %s", c.ResolutionDue, want)
	}
}

func TestStateOf(t *testing.T) {
	due := at(t, time.UTC, "2026-12-02 11:00")
	tests := []struct {
		name      string
		done, now string
		want      SLAState
	}{
		{"reply exactly at due time meets it", "2026-12-02 11:00", "2026-12-02 12:00", SLAMet},
		{"reply before", "2026-12-02 10:59", "2026-12-02 12:00", SLAMet},
		{"reply a minute late", "2026-12-02 11:01", "2026-12-02 12:00", SLABreached},
		{"no reply, not yet due", "", "2026-12-02 11:00", SLAActive},
		{"no reply, past due", "", "2026-12-02 11:01", SLABreached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var done time.Time
			if tt.done != "" {
				done = at(t, time.UTC, tt.done)
			}
			if got := StateOf(due, done, at(t, time.UTC, tt.now)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestEscalateStepsOncePerTicket(t *testing.T) {
	p := &Policy{ID: "p", FirstReply: 2 * time.Hour, Resolution: 8 * time.Hour, Calendar: weekdays(time.UTC), Steps: []Step{
		{ID: "warn", Clock: ClockFirstReply, Offset: -30 * time.Minute, NotifyURL: "http://hook"},
		{ID: "raise", Clock: ClockFirstReply, RaisePriority: true, SetQueue: "tier2"},
		{ID: "late", Clock: ClockResolution, Offset: time.Hour, RaisePriority: true},
	}}
	created := at(t, time.UTC, "2026-12-02 09:00")
	tk := &Ticket{ID: "t1", Priority: PriorityNormal, Queue: "general", Status: StatusNew, CreateTime: created,
		History: []StatusChange{{Status: StatusNew, At: created}}, PolicyID: "p"}
	tk.Refresh(p, created)
	if want := at(t, time.UTC, "2026-12-02 10:30"); !tk.NextEscalation.Equal(want) {
		t.Fatalf("next escalation %s, want %s", tk.NextEscalation, want)
	}
	sweeps := []struct {
		at       string
		steps    []string
		notices  int
		priority Priority
		queue    string
	}{
		{"2026-12-02 10:00", nil, 0, PriorityNormal, "general"},
		{"2026-12-02 10:30", []string{"warn"}, 1, PriorityNormal, "general"},
		{"2026-12-02 10:45", []string{"warn"}, 0, PriorityNormal, "general"},
		{"2026-12-02 11:00", []string{"warn", "raise"}, 0, PriorityHigh, "tier2"},
		{"2026-12-02 12:00", []string{"warn", "raise"}, 0, PriorityHigh, "tier2"},
		{"2026-12-03 11:00", []string{"warn", "raise", "late"}, 0, PriorityUrgent, "tier2"},
		{"2026-12-04 11:00", []string{"warn", "raise", "late"}, 0, PriorityUrgent, "tier2"},
	}
	for _, s := range sweeps {
		notices := tk.Escalate(p, at(t, time.UTC, s.at), "escalations/x")
		var got []string
		for _, e := range tk.Escalations {
			got = append(got, e.StepID)
		}
		if len(notices) != s.notices || !slices.Equal(got, s.steps) || tk.Priority != s.priority || tk.Queue != s.queue {
			t.Fatalf("at %s: steps %v, notices %d, priority %s, queue %s; want %v, %d, %s, %s",
				s.at, got, len(notices), tk.Priority, tk.Queue, s.steps, s.notices, s.priority, s.queue)
		}
	}
	if !tk.NextEscalation.IsZero() {
		t.Fatalf("next escalation %s after every step, want none", tk.NextEscalation)
	}
}

func TestEscalateSkipsAnsweredFirstReply(t *testing.T) {
	p := &Policy{FirstReply: time.Hour, Steps: []Step{{ID: "raise", Clock: ClockFirstReply, RaisePriority: true}}}
	created := at(t, time.UTC, "2026-12-02 09:00")
	tk := &Ticket{Priority: PriorityLow, Status: StatusOpen, CreateTime: created, FirstReplyTime: created.Add(time.Minute),
		History: []StatusChange{{Status: StatusOpen, At: created}}}
	tk.Refresh(p, created)
	if n := tk.Escalate(p, created.Add(5*time.Hour), "s"); n != nil || len(tk.Escalations) != 0 || tk.Priority != PriorityLow {
		t.Fatalf("escalated an answered ticket: %v, priority %s", tk.Escalations, tk.Priority)
	}
}
