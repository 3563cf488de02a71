package feedback

import (
	"slices"
	"time"
)

// Rule is a classification rule: when its condition matches a ticket, it
// sets the type, priority and queue and adds tags.
type Rule struct {
	ID          string
	DisplayName string
	Position    int
	Keywords    []string
	Condition   string
	SetType     TicketType
	SetPriority Priority
	SetQueue    string
	AddTags     []string
	CreateTime  time.Time
}

// Subject is what rules are matched against: a ticket and its customer.
// Prepared holds what a Matcher derives from them once for every rule
// (normalized text, CEL variables); it starts nil.
type Subject struct {
	Ticket   *Ticket
	Customer CustomerContext
	Prepared any
}

// Matcher is a compiled rule condition (keywords and CEL); the rules
// package implements it.
type Matcher interface {
	Match(s *Subject) (bool, error)
}

// Compiler compiles a rule's keywords and condition; a condition that
// does not compile is an error wrapping ErrInvalidRule.
type Compiler interface {
	Compile(r Rule) (Matcher, error)
}

// CompiledRule is a rule with its matcher.
type CompiledRule struct {
	Rule
	Matcher Matcher
}

// Classify applies rules, in order, to t: every matching rule adds its
// tags, and type, priority and queue come from the first matching rule that
// sets each. Every rule sees the ticket as submitted, before any rule's
// actions. It returns the ids of the rules that matched. A rule whose
// condition fails at run time does not match.
func Classify(t *Ticket, rules []CompiledRule, c CustomerContext) []string {
	var matched []string
	var setType, setPriority, setQueue bool
	subject := &Subject{Ticket: t, Customer: c}
	for _, r := range rules {
		ok, err := r.Matcher.Match(subject)
		if err != nil || !ok {
			continue
		}
		matched = append(matched, r.ID)
		if r.SetType != "" && !setType {
			t.Type, setType = r.SetType, true
		}
		if r.SetPriority != 0 && !setPriority {
			t.Priority, setPriority = r.SetPriority, true
		}
		if r.SetQueue != "" && !setQueue {
			t.Queue, setQueue = r.SetQueue, true
		}
		for _, tag := range r.AddTags {
			if !slices.Contains(t.Tags, tag) {
				t.Tags = append(t.Tags, tag)
			}
		}
	}
	return matched
}

// SelectPolicy returns the most specific policy for a ticket of priority,
// queue and value tier: the priority must match, and a policy's queue and
// tier, when set, must too; a queue match outranks a tier match. Ties go
// to the policy listed first. Nil when none applies.
func SelectPolicy(policies []Policy, priority Priority, queue, tier string) *Policy {
	var best *Policy
	bestScore := -1
	for i := range policies {
		p := &policies[i]
		if p.Priority != priority || (p.Queue != "" && p.Queue != queue) || (p.ValueTier != "" && p.ValueTier != tier) {
			continue
		}
		score := 0
		if p.Queue != "" {
			score += 2
		}
		if p.ValueTier != "" {
			score++
		}
		if score > bestScore {
			best, bestScore = p, score
		}
	}
	return best
}
