package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// ruleDoc is a rule kept as JSON.
type ruleDoc struct {
	DisplayName string              `json:"display_name,omitempty"`
	Keywords    []string            `json:"keywords,omitempty"`
	Condition   string              `json:"condition,omitempty"`
	SetType     feedback.TicketType `json:"set_type,omitempty"`
	SetPriority feedback.Priority   `json:"set_priority,omitempty"`
	SetQueue    string              `json:"set_queue,omitempty"`
	AddTags     []string            `json:"add_tags,omitempty"`
}

// CreateRule implements feedback.RuleStore.
func (s *Store) CreateRule(ctx context.Context, r feedback.Rule) error {
	data, err := encode(ruleDoc{r.DisplayName, r.Keywords, r.Condition, r.SetType, r.SetPriority, r.SetQueue, r.AddTags})
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO classification_rules (rule_id, position, create_time, data) VALUES (?, ?, ?, ?)`),
		r.ID, r.Position, nanos(r.CreateTime), data)
	return s.exists(err, "classification rule", r.ID)
}

// ListRules implements feedback.RuleStore.
func (s *Store) ListRules(ctx context.Context) ([]feedback.Rule, error) {
	var out []feedback.Rule
	err := s.each(ctx, `SELECT rule_id, position, create_time, data FROM classification_rules ORDER BY position, rule_id`, nil,
		func(r scanner) error {
			var (
				rule feedback.Rule
				ct   int64
				data string
				d    ruleDoc
			)
			if err := r.Scan(&rule.ID, &rule.Position, &ct, &data); err != nil {
				return err
			}
			if err := decode(data, &d); err != nil {
				return err
			}
			rule.CreateTime, rule.DisplayName, rule.Keywords, rule.Condition = fromNanos(ct), d.DisplayName, d.Keywords, d.Condition
			rule.SetType, rule.SetPriority, rule.SetQueue, rule.AddTags = d.SetType, d.SetPriority, d.SetQueue, d.AddTags
			out = append(out, rule)
			return nil
		})
	return out, err
}

// CountRules implements feedback.RuleStore.
func (s *Store) CountRules(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM classification_rules`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count rules: %w", err)
	}
	return n, nil
}

// policyDoc is an SLA policy kept as JSON.
type policyDoc struct {
	Priority    feedback.Priority      `json:"priority"`
	Queue       string                 `json:"queue,omitempty"`
	ValueTier   string                 `json:"value_tier,omitempty"`
	FirstReply  time.Duration          `json:"first_reply_ns,omitempty"`
	Resolution  time.Duration          `json:"resolution_ns,omitempty"`
	Calendar    *feedback.CalendarSpec `json:"calendar,omitempty"`
	PauseOnHold bool                   `json:"pause_on_hold,omitempty"`
	Steps       []feedback.Step        `json:"steps,omitempty"`
}

// CreatePolicy implements feedback.PolicyStore.
func (s *Store) CreatePolicy(ctx context.Context, p feedback.Policy) error {
	data, err := encode(policyDoc{p.Priority, p.Queue, p.ValueTier, p.FirstReply, p.Resolution, p.CalendarSpec, p.PauseOnHold, p.Steps})
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO sla_policies (policy_id, create_time, data) VALUES (?, ?, ?)`),
		p.ID, nanos(p.CreateTime), data)
	return s.exists(err, "sla policy", p.ID)
}

// ListPolicies implements feedback.PolicyStore; each calendar is compiled.
func (s *Store) ListPolicies(ctx context.Context) ([]feedback.Policy, error) {
	var out []feedback.Policy
	err := s.each(ctx, `SELECT policy_id, create_time, data FROM sla_policies ORDER BY policy_id`, nil, func(r scanner) error {
		var (
			p    feedback.Policy
			ct   int64
			data string
			d    policyDoc
		)
		if err := r.Scan(&p.ID, &ct, &data); err != nil {
			return err
		}
		if err := decode(data, &d); err != nil {
			return err
		}
		p.CreateTime, p.Priority, p.Queue, p.ValueTier = fromNanos(ct), d.Priority, d.Queue, d.ValueTier
		p.FirstReply, p.Resolution, p.CalendarSpec, p.PauseOnHold, p.Steps = d.FirstReply, d.Resolution, d.Calendar, d.PauseOnHold, d.Steps
		if d.Calendar != nil {
			cal, err := d.Calendar.Compile()
			if err != nil {
				return fmt.Errorf("store: policy %s calendar: %w", p.ID, err)
			}
			p.Calendar = cal
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

// each runs query and calls fn for each row.
func (s *Store) each(ctx context.Context, query string, args []any, fn func(scanner) error) error {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return rows.Err()
}

// notFound maps sql.ErrNoRows to sentinel.
func notFound(err, sentinel error, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", sentinel, id)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}
