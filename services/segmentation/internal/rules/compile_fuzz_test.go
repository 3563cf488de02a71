package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// FuzzCompile compiles any text as a rule. A rejected rule is a
// *CompileError wrapping ErrInvalidRule whose position is inside the text.
// A compiled rule evaluates, without panicking, against a bare subject, a
// realistic one and one with every list and string at its input bound; on
// the subjects within the bounds the fast untracked program agrees with
// the tracked one and really costs no more than its estimate (so skipping
// cost tracking is safe), and the tracked program never succeeds over the
// cost limit.
func FuzzCompile(f *testing.F) {
	for _, r := range append(slices.Clone(realisticRules),
		`rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`,
		`features.last_order_time > timestamp("2011-01-01T00:00:00Z")`,
		`tags.all(a, tags.all(b, a == b))`,
		`tags.map(a, tags.map(b, a + b)).size() > 0`,
		`features.top_categories.exists(c, c.matches("^home"))`,
		`features.net_spend * 9223372036854775807 > 0`,
		`timestamp("not a time") < features.last_order_time`,
		"rfm.r_score >=\n  4 &&\n  features.nope", `features.currency`, `"é" + `, ``, ` `, "\xff == 1",
	) {
		f.Add(r)
	}
	env, err := NewEnv()
	if err != nil {
		f.Fatal(err)
	}
	subjects := []*Subject{{}, {Customer: &loyalCustomer, Result: &loyalResult}, boundSubject()}
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := env.Compile(expr)
		if err != nil {
			checkCompileError(t, expr, err)
			return
		}
		ast, iss := env.env.Compile(expr)
		if iss.Err() != nil {
			t.Fatalf("Compile(%q) succeeded but CEL reports %v", expr, iss.Err())
		}
		ev := env.NewEvaluator([]*Rule{r})
		for _, s := range subjects {
			ev.Eval(s, make([]bool, 1))
			ev.subject, ev.built = s, 0
			v, det, err := r.tracked.Eval(&ev.act)
			if err == nil && (det.ActualCost() == nil || *det.ActualCost() > env.costLimit) {
				t.Fatalf("rule %q: tracked evaluation succeeded over the cost limit %d: %v", expr, env.costLimit, det.ActualCost())
			}
			if r.untracked == nil || !subjectWithinBounds(s) {
				continue
			}
			checkUntracked(t, env, r, ast, ev, s, v, err)
		}
	})
}

// checkUntracked checks the untracked program of r on s against the
// tracked program's result (v, trackedErr) and against its cost estimate.
func checkUntracked(t *testing.T, env *Env, r *Rule, ast *cel.Ast, ev *Evaluator, s *Subject, v ref.Val, trackedErr error) {
	t.Helper()
	ev.subject, ev.built = s, 0
	u, _, err := r.untracked.Eval(&ev.act)
	if (err == nil) != (trackedErr == nil) || err == nil && u.Equal(v) != types.True {
		t.Fatalf("rule %q: untracked gives %v, %v; tracked %v, %v", r.Expr(), u, err, v, trackedErr)
	}
	measure, err := env.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(r.maxCost))
	if err != nil {
		t.Fatal(err)
	}
	ev.subject, ev.built = s, 0
	if _, det, err := measure.Eval(&ev.act); overCostLimit(err) {
		t.Fatalf("rule %q: estimated to cost at most %d within the input bounds, costs more (%v)", r.Expr(), r.maxCost, det.ActualCost())
	}
}

// checkCompileError checks that err is a *CompileError for expr with a
// position inside expr.
func checkCompileError(t *testing.T, expr string, err error) {
	t.Helper()
	var ce *CompileError
	if !errors.As(err, &ce) || !errors.Is(err, segmentation.ErrInvalidRule) {
		t.Fatalf("Compile(%q): got %#v, want a *CompileError wrapping ErrInvalidRule", expr, err)
	}
	lines := strings.Split(expr, "\n")
	if ce.Line < 1 || ce.Line > len(lines) || ce.Column < 1 || ce.Column > utf8.RuneCountInString(lines[ce.Line-1])+1 {
		t.Fatalf("Compile(%q): position line %d, column %d is outside the rule (%v)", expr, ce.Line, ce.Column, err)
	}
	if ce.Message == "" {
		t.Fatalf("Compile(%q): no message", expr)
	}
}

// boundSubject is a customer whose every list and string is at its input
// bound.
func boundSubject() *Subject {
	long := func(c byte) string { return strings.Repeat(string(c), maxStringLen) }
	list := make([]string, maxListLen)
	for i := range list {
		list[i] = long(byte('a' + i%26))
	}
	c := loyalCustomer
	c.Features.Currency, c.Features.PreferredChannel = long('G'), long('w')
	c.Features.TopCategories, c.Tags = list, list
	return &Subject{Customer: &c, Result: &loyalResult}
}
