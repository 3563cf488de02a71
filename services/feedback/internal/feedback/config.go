package feedback

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// idPattern is what a client-chosen id (rule, policy, survey, step) may be.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// checkID returns the bad-argument error of a client-chosen id.
func checkID(field, id string) error {
	if !idPattern.MatchString(id) {
		return InvalidArgument(field, fmt.Sprintf("must be 1 to 63 lower-case letters, digits and \"-\", starting with a letter, got %q", id))
	}
	return nil
}

// CreateRule checks and stores a classification rule; position 0 places
// it after the last rule.
func (s *Service) CreateRule(ctx context.Context, r Rule) (*Rule, error) {
	if err := checkID("rule_id", r.ID); err != nil {
		return nil, err
	}
	if _, err := s.compile(r); err != nil {
		return nil, err
	}
	if r.Position == 0 {
		rules, err := s.store.ListRules(ctx)
		if err != nil {
			return nil, err
		}
		r.Position = 1
		if len(rules) > 0 {
			r.Position = rules[len(rules)-1].Position + 1
		}
	}
	r.CreateTime = s.now()
	if err := s.store.CreateRule(ctx, r); err != nil {
		return nil, err
	}
	return &r, nil
}

// compile checks a rule's actions and compiles its condition.
func (s *Service) compile(r Rule) (Matcher, error) {
	switch {
	case r.Position < 0:
		return nil, InvalidArgument("rule.position", "must not be negative")
	case r.SetType != "" && !slices.Contains(Types, r.SetType):
		return nil, InvalidArgument("rule.set_type", "must be a ticket type")
	case r.SetPriority < 0 || r.SetPriority > PriorityUrgent:
		return nil, InvalidArgument("rule.set_priority", "must be a priority")
	case len(r.Keywords) == 0 && r.Condition == "":
		return nil, InvalidArgument("rule.keywords", "a rule needs keywords, a condition or both")
	}
	return s.compiler.Compile(r)
}

// ListRules returns every rule in evaluation order.
func (s *Service) ListRules(ctx context.Context) ([]Rule, error) { return s.store.ListRules(ctx) }

// TestRule checks rule, without saving it, against a sample ticket and
// customer: whether it matches, and the ticket with its actions applied.
func (s *Service) TestRule(r Rule, t Ticket, c CustomerContext) (bool, *Ticket, error) {
	m, err := s.compile(r)
	if err != nil {
		return false, nil, err
	}
	if t.Priority == 0 {
		t.Priority = PriorityNormal
	}
	if t.Queue == "" {
		t.Queue = DefaultQueue
	}
	matched := Classify(&t, []CompiledRule{{Rule: r, Matcher: m}}, c)
	return len(matched) == 1, &t, nil
}

// compiledRules returns the stored rules compiled, from a cache kept while
// the number of rules (only ever added) does not change.
func (s *Service) compiledRules(ctx context.Context) ([]CompiledRule, error) {
	n, err := s.store.CountRules(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == s.count && s.rules != nil {
		return s.rules, nil
	}
	rules, err := s.store.ListRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]CompiledRule, 0, len(rules))
	for _, r := range rules {
		m, err := s.compiler.Compile(r)
		if err != nil {
			return nil, fmt.Errorf("feedback: stored rule %s: %w", r.ID, err)
		}
		out = append(out, CompiledRule{Rule: r, Matcher: m})
	}
	s.rules, s.count = out, len(rules)
	return out, nil
}

// CreatePolicy checks and stores an SLA policy.
func (s *Service) CreatePolicy(ctx context.Context, p Policy) (*Policy, error) {
	if err := checkID("policy_id", p.ID); err != nil {
		return nil, err
	}
	if err := validatePolicy(&p); err != nil {
		return nil, err
	}
	p.CreateTime = s.now()
	if err := s.store.CreatePolicy(ctx, p); err != nil {
		return nil, err
	}
	return &p, nil
}

func validatePolicy(p *Policy) error {
	switch {
	case p.Priority < PriorityLow || p.Priority > PriorityUrgent:
		return InvalidArgument("policy.priority", "is required: LOW, NORMAL, HIGH or URGENT")
	case p.FirstReply < 0 || p.Resolution < 0:
		return InvalidArgument("policy.first_reply_target", "targets must not be negative")
	case p.FirstReply == 0 && p.Resolution == 0:
		return InvalidArgument("policy.first_reply_target", "a policy needs a first-reply or a resolution target")
	}
	if p.CalendarSpec != nil {
		cal, err := p.CalendarSpec.Compile()
		if err != nil {
			return err
		}
		p.Calendar = cal
	}
	seen := map[string]bool{}
	for i, st := range p.Steps {
		path := fmt.Sprintf("policy.escalation_steps[%d]", i)
		if err := checkID(path+".step_id", st.ID); err != nil {
			return err
		}
		if seen[st.ID] {
			return InvalidArgument(path+".step_id", "must be unique in the policy, "+st.ID+" repeats")
		}
		seen[st.ID] = true
		if st.Clock != ClockFirstReply && st.Clock != ClockResolution {
			return InvalidArgument(path+".clock", "is required: FIRST_REPLY or RESOLUTION")
		}
		if !st.RaisePriority && st.SetQueue == "" && st.NotifyURL == "" {
			return InvalidArgument(path, "a step needs raise_priority, set_queue or notify_url")
		}
	}
	return nil
}

// Compile checks a calendar as written and returns it.
func (c *CalendarSpec) Compile() (*Calendar, error) {
	zone := c.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, InvalidArgument("policy.calendar.time_zone", fmt.Sprintf("must be an IANA time zone such as Europe/Berlin, got %q", zone))
	}
	cal := &Calendar{Location: loc, Holidays: map[string]bool{}}
	for i, h := range c.Hours {
		path := fmt.Sprintf("policy.calendar.hours[%d]", i)
		if h.Day < 1 || h.Day > 7 {
			return nil, InvalidArgument(path+".day", "must be 1 (Monday) to 7 (Sunday)")
		}
		start, err1 := ParseClock(h.Start)
		end, err2 := ParseClock(h.End)
		if err := errors.Join(err1, err2); err != nil {
			return nil, InvalidArgument(path, err.Error())
		}
		if end <= start {
			return nil, InvalidArgument(path+".end", "must be after start")
		}
		day := time.Weekday(h.Day % 7)
		if cal.Hours[day] != (Span{}) {
			return nil, InvalidArgument(path+".day", "repeats a day; give each day once")
		}
		cal.Hours[day] = Span{Start: start, End: end}
	}
	if len(c.Hours) == 0 {
		return nil, InvalidArgument("policy.calendar.hours", "a calendar needs at least one day of hours")
	}
	for i, d := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, InvalidArgument(fmt.Sprintf("policy.calendar.holidays[%d]", i), "must be a date such as 2026-12-25")
		}
		cal.Holidays[d] = true
	}
	return cal, nil
}

// ListPolicies returns every SLA policy in id order.
func (s *Service) ListPolicies(ctx context.Context) ([]Policy, error) {
	return s.store.ListPolicies(ctx)
}

// policyFor selects t's policy and records its id on t.
func (s *Service) policyFor(ctx context.Context, t *Ticket, tier string) (*Policy, error) {
	policies, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	p := SelectPolicy(policies, t.Priority, t.Queue, tier)
	if p != nil {
		t.PolicyID = p.ID
	}
	return p, nil
}
