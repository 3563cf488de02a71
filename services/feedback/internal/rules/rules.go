// Package rules compiles classification rules: keyword lists matched
// without regard to case or character width (so they work on Chinese and
// full-width text without word segmentation) and CEL conditions over the
// ticket and the customer's tiers, such as
// `ticket.type == "complaint" && customer.value_tier == "vip"`.
package rules

import (
	"fmt"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/platform/celrule"
)

// Limits of a condition.
const (
	// costLimit bounds the CEL runtime cost of one evaluation.
	costLimit = 10_000
	// MaxConditionLength is the longest condition, in code points.
	MaxConditionLength = 4096
)

// CompileError is a condition that does not compile; Line and Column are
// 1-based. It wraps feedback.ErrInvalidRule.
type CompileError struct {
	Line, Column int
	Message      string
}

// Error implements error.
func (e *CompileError) Error() string {
	return fmt.Sprintf("rules: condition line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// ErrorMetadata gives the position of the problem to the API error.
func (e *CompileError) ErrorMetadata() map[string]string {
	return map[string]string{"line": strconv.Itoa(e.Line), "column": strconv.Itoa(e.Column)}
}

// Unwrap returns feedback.ErrInvalidRule.
func (e *CompileError) Unwrap() error { return feedback.ErrInvalidRule }

// Compiler compiles rules; it is safe for concurrent use.
type Compiler struct{ env *cel.Env }

var _ feedback.Compiler = (*Compiler)(nil)

// New returns a Compiler whose conditions see two variables:
//
//	ticket    map: type, channel, priority (lower-case names), subject, body,
//	          order_id, customer_id, queue (strings) and tags (list of strings)
//	customer  map: value_tier, lifecycle_stage, loyalty_tier ("" when unknown)
func New() (*Compiler, error) {
	env, err := cel.NewEnv(
		cel.Variable("ticket", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("customer", cel.MapType(cel.StringType, cel.StringType)),
	)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return &Compiler{env: env}, nil
}

// Compile returns the rule's matcher: it matches when the subject or body
// contains one of the keywords (or there are none) and the condition is
// true (or there is none).
func (c *Compiler) Compile(r feedback.Rule) (feedback.Matcher, error) {
	m := &matcher{}
	for _, k := range r.Keywords {
		if k = Normalize(strings.TrimSpace(k)); k != "" {
			m.keywords = append(m.keywords, k)
		}
	}
	if strings.TrimSpace(r.Condition) == "" {
		return m, nil
	}
	if n := len([]rune(r.Condition)); n > MaxConditionLength {
		return nil, &CompileError{Line: 1, Column: 1, Message: fmt.Sprintf("condition is %d characters long, at most %d allowed", n, MaxConditionLength)}
	}
	ast, iss := c.env.Compile(r.Condition)
	if iss.Err() != nil {
		return nil, issueError(iss)
	}
	if ast.OutputType() != cel.BoolType {
		return nil, &CompileError{Line: 1, Column: 1, Message: "condition must be a bool, got " + ast.OutputType().String()}
	}
	prg, err := c.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(costLimit))
	if err != nil {
		return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
	}
	m.program = prg
	return m, nil
}

// issueError is a *CompileError about the first of CEL's issues with a
// position.
func issueError(iss *cel.Issues) *CompileError {
	first := celrule.FirstIssue(iss)
	return &CompileError{Line: first.Line, Column: first.Column, Message: first.Message}
}

// Normalize folds character width and case and composes (NFC), so
// "ＲＥＦＵＮＤ", "Refund" and "refund" compare equal, and half-width
// katakana ("ﾋﾟ", whose sound mark folds to a combining one) match
// full-width ("ピ").
func Normalize(s string) string {
	return cases.Fold().String(norm.NFC.String(width.Fold.String(s)))
}

// matcher is one compiled rule.
type matcher struct {
	keywords []string
	program  cel.Program
}

// prepared is what every rule of one classification shares: the folded
// text and the CEL activation, built once per ticket.
type prepared struct {
	text string
	vars interpreter.Activation
}

func prepare(s *feedback.Subject) (*prepared, error) {
	if p, ok := s.Prepared.(*prepared); ok {
		return p, nil
	}
	t, c := s.Ticket, s.Customer
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	vars, err := interpreter.NewActivation(map[string]any{
		"ticket": map[string]any{
			"type": string(t.Type), "channel": string(t.Channel), "priority": t.Priority.String(),
			"subject": t.Subject, "body": t.Body, "order_id": t.OrderID, "customer_id": t.CustomerID,
			"queue": t.Queue, "tags": tags,
		},
		"customer": map[string]string{
			"value_tier": c.ValueTier, "lifecycle_stage": c.LifecycleStage, "loyalty_tier": c.LoyaltyTier,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	p := &prepared{text: Normalize(t.Subject + "\n" + t.Body), vars: vars}
	s.Prepared = p
	return p, nil
}

// Match implements feedback.Matcher.
func (m *matcher) Match(s *feedback.Subject) (bool, error) {
	p, err := prepare(s)
	if err != nil {
		return false, err
	}
	if len(m.keywords) > 0 && !containsAny(p.text, m.keywords) {
		return false, nil
	}
	if m.program == nil {
		return true, nil
	}
	out, _, err := m.program.Eval(p.vars)
	if err != nil {
		return false, fmt.Errorf("rules: %w", err)
	}
	ok, _ := out.Value().(bool)
	return ok, nil
}

func containsAny(text string, keywords []string) bool {
	for _, k := range keywords {
		if strings.Contains(text, k) {
			return true
		}
	}
	return false
}
