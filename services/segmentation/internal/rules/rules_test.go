package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func newEnv(t *testing.T, opts ...Option) *Env {
	t.Helper()
	env, err := NewEnv(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// eval compiles expr and evaluates it against s.
func eval(t *testing.T, env *Env, expr string, s *Subject) (bool, int) {
	t.Helper()
	r, err := env.Compile(expr)
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	out := make([]bool, 1)
	errs := env.NewEvaluator([]*Rule{r}).Eval(s, out)
	return out[0], errs
}

var (
	loyalCustomer = segmentation.Customer{
		ID: "c1",
		Features: segmentation.Features{
			FirstOrderTime:         time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC),
			LastOrderTime:          time.Date(2011, 12, 7, 15, 52, 0, 0, time.UTC),
			LastActivityTime:       time.Date(2011, 12, 8, 10, 0, 0, 0, time.UTC),
			OrderCount:             7,
			RefundCount:            1,
			Currency:               "GBP",
			GrossMinor:             450_000,
			NetMinor:               431_000,
			AverageOrderValueMinor: 61_571,
			DiscountShare:          0.125,
			PreferredChannel:       "web",
			TopCategories:          []string{"home_garden", "kitchen"},
		},
		Tags: []string{"newsletter", "vip_gold"},
	}
	loyalResult = segmentation.Result{
		CustomerID: "c1", Scored: true, RecencyDays: 2, Frequency: 7, Monetary: 431_000,
		RScore: 5, FScore: 4, MScore: 5, Segment: segmentation.SegmentChampions,
		Tier: segmentation.TierVIP, Stage: segmentation.StageActive,
	}
	prospect       = segmentation.Customer{ID: "p1", Tags: []string{"newsletter"}}
	prospectResult = segmentation.Result{CustomerID: "p1", Stage: segmentation.StageProspect}
)

func TestEval(t *testing.T) {
	env := newEnv(t)
	loyal := &Subject{Customer: &loyalCustomer, Result: &loyalResult}
	pros := &Subject{Customer: &prospect, Result: &prospectResult}
	bare := &Subject{}
	tests := []struct {
		name    string
		expr    string
		subject *Subject
		want    bool
	}{
		{"contract example", `rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`, loyal, true},
		{"contract example prospect", `rfm.r_score >= 4 && features.order_count >= 3 && "newsletter" in tags`, pros, false},
		{"timestamp after", `features.last_order_time > timestamp("2011-01-01T00:00:00Z")`, loyal, true},
		{"timestamp before", `features.first_order_time < timestamp("2010-12-01T00:00:00Z")`, loyal, false},
		{"timestamp arithmetic", `features.last_order_time - features.first_order_time > duration("8760h")`, loyal, true},
		{"timestamp accessor", `features.last_order_time.getFullYear() == 2011 && features.last_order_time.getMonth() == 11`, loyal, true},
		{"prospect zero time", `features.last_order_time < timestamp("1970-01-01T00:00:00Z")`, pros, true},
		{"string ops", `features.currency == "GBP" && features.preferred_channel.startsWith("w") && tier.contains("vi")`, loyal, true},
		{"string matches", `rfm.segment.matches("^champ")`, loyal, true},
		{"list exists", `features.top_categories.exists(c, c.endsWith("garden"))`, loyal, true},
		{"list all", `tags.all(t, t.size() > 3)`, loyal, true},
		{"list size", `size(tags) == 2 && size(features.top_categories) == 2`, loyal, true},
		{"list in literal", `lifecycle in ["active", "new"] && tier in ["vip"]`, loyal, true},
		{"not in", `!("unsubscribed" in tags)`, loyal, true},
		{"doubles", `features.discount_share < 0.2 && features.discount_share * 8.0 == 1.0`, loyal, true},
		{"money ints", `features.net_spend == 431000 && features.gross_spend - features.net_spend == 19000 && features.average_order_value > 60000`, loyal, true},
		{"rfm fields", `rfm.recency_days == 2 && rfm.frequency == 7 && rfm.monetary == 431000 && rfm.f_score == 4 && rfm.m_score == 5`, loyal, true},
		{"refunds", `features.refund_count == 1`, loyal, true},
		{"last activity", `features.last_activity_time > features.last_order_time`, loyal, true},
		{"prospect scores zero", `rfm.r_score == 0 && rfm.f_score == 0 && rfm.m_score == 0 && rfm.segment == "" && tier == "" && lifecycle == "prospect"`, pros, true},
		{"prospect tags", `"newsletter" in tags && features.order_count == 0 && size(features.top_categories) == 0`, pros, true},
		{"nil customer and result", `lifecycle == "prospect" && size(tags) == 0 && features.currency == ""`, bare, true},
		{"ternary", `(rfm.r_score > 3 ? "hot" : "cold") == "hot"`, loyal, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := eval(t, env, tt.expr, tt.subject)
			if errs != 0 {
				t.Fatalf("Eval: %d errors", errs)
			}
			if got != tt.want {
				t.Errorf("Eval(%s): got %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	env := newEnv(t, withMaxLength(200))
	tests := []struct {
		name       string
		expr       string
		line, col  int
		msgContain string
	}{
		{"empty", "  ", 1, 1, "empty"},
		{"syntax", `rfm.r_score >= `, 1, 16, "Syntax error"},
		{"syntax second line", "rfm.r_score >= 4 &&\n  features.order_count >> 3", 2, 25, "Syntax error"},
		{"syntax inside a macro", "1 + tags.exists(.,0", 1, 18, "Syntax error"},
		{"unknown field", `features.nope > 1`, 1, 9, "undefined field 'nope'"},
		{"unknown field line 3", "tier == \"vip\" ||\n\n   rfm.nope == 1", 3, 7, "undefined field 'nope'"},
		{"unknown variable", `customer.id == "x"`, 1, 1, "undeclared reference"},
		{"type mismatch", `rfm.r_score == "x"`, 1, 13, "no matching overload"},
		{"non-bool result", `features.order_count + 1`, 1, 22, "must be a bool"},
		{"non-bool string", `tier`, 1, 1, "must be a bool, got string"},
		// Messages name the variables, not their CEL type names.
		{"non-bool object", `rfm`, 1, 1, "must be a bool, got rfm"},
		{"object in an overload", `features + 1`, 1, 10, "applied to '(features, int)'"},
		{"bad constant timestamp", `features.last_order_time > timestamp("yesterday")`, 1, 1, ""},
		{"too long", strings.Repeat("true && ", 30) + "true", 1, 1, "at most 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := env.Compile(tt.expr)
			if err == nil {
				t.Fatalf("Compile(%q): got rule %v, want error", tt.expr, r)
			}
			if !errors.Is(err, segmentation.ErrInvalidRule) {
				t.Errorf("error %v does not wrap ErrInvalidRule", err)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *CompileError", err)
			}
			if ce.Line != tt.line || ce.Column != tt.col {
				t.Errorf("position: got line %d, column %d, want %d, %d (%v)", ce.Line, ce.Column, tt.line, tt.col, err)
			}
			if strings.Contains(ce.Message, "tenure.") {
				t.Errorf("message %q names an internal type", ce.Message)
			}
			if !strings.Contains(ce.Message, tt.msgContain) {
				t.Errorf("message %q does not contain %q", ce.Message, tt.msgContain)
			}
			if !strings.HasPrefix(err.Error(), "rules: line ") {
				t.Errorf("Error(): got %q", err.Error())
			}
		})
	}
}

func TestCostLimit(t *testing.T) {
	env := newEnv(t, withCostLimit(10_000))
	many := make([]string, 200)
	for i := range many {
		many[i] = "tag"
	}
	heavy := &Subject{Customer: &segmentation.Customer{ID: "h", Tags: many}}
	tests := []struct {
		name     string
		expr     string
		subject  *Subject
		want     bool
		wantErrs int
	}{
		// 200 × 200 iterations: far over 10,000.
		{"nested comprehension over big tags", `tags.all(a, tags.all(b, a == b))`, heavy, false, 1},
		{"string blow-up", `tags.map(a, tags.map(b, a + b)).size() > 0`, heavy, false, 1},
		// The same rule on a small list is within the limit.
		{"nested comprehension over small tags", `tags.all(a, tags.all(b, a == b))`, &Subject{Customer: &prospect}, true, 0},
		// Within the input bounds the untracked program runs; still fine.
		{"cheap rule on big tags", `"tag" in tags`, heavy, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := eval(t, env, tt.expr, tt.subject)
			if got != tt.want || errs != tt.wantErrs {
				t.Errorf("Eval: got %v with %d errors, want %v with %d", got, errs, tt.want, tt.wantErrs)
			}
		})
	}
}

func TestRuntimeErrorCounted(t *testing.T) {
	env := newEnv(t)
	rules := compileAll(t, env, []string{
		`features.order_count / features.refund_count > 1`, // division by zero for the prospect
		`lifecycle == "prospect"`,
		`features.net_spend * 9223372036854775807 > 0`, // overflow when net_spend > 1
	})
	ev := env.NewEvaluator(rules)
	out := make([]bool, 3)
	if errs := ev.Eval(&Subject{Customer: &prospect, Result: &prospectResult}, out); errs != 1 || out[0] || !out[1] || out[2] {
		t.Errorf("prospect: got %v with %d errors, want [false true false] with 1", out, errs)
	}
	if errs := ev.Eval(&Subject{Customer: &loyalCustomer, Result: &loyalResult}, out); errs != 1 || !out[0] || out[1] || out[2] {
		t.Errorf("loyal: got %v with %d errors, want [true false false] with 1", out, errs)
	}
}

// TestEvaluatorReusesNothingStale evaluates alternating subjects with one
// evaluator: values cached for one customer must not leak to the next.
func TestEvaluatorReusesNothingStale(t *testing.T) {
	env := newEnv(t)
	rules := compileAll(t, env, realisticRules)
	ev := env.NewEvaluator(rules)
	subjects := syntheticSubjects(200, 7)
	got := make([]bool, len(rules))
	want := make([]bool, len(rules))
	for i := range subjects {
		if errs := ev.Eval(&subjects[i], got); errs != 0 {
			t.Fatalf("subject %d: %d errors", i, errs)
		}
		fresh := env.NewEvaluator(rules)
		fresh.Eval(&subjects[i], want)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("subject %d rule %d: reused evaluator %v, fresh %v", i, j, got[j], want[j])
			}
		}
	}
}

func TestRealisticRulesAreUntracked(t *testing.T) {
	env := newEnv(t)
	for i, r := range compileAll(t, env, realisticRules) {
		if r.untracked == nil {
			t.Errorf("rule %d %q: no untracked program (cost estimate over the limit)", i, r.Expr())
		}
	}
	if n := len(featuresFields) + len(rfmFields) + len(recommendationsFields) + len(topFields); n != firstPrediction {
		t.Errorf("firstPrediction: got %d, want %d", firstPrediction, n)
	}
	if n := firstPrediction + len(predictionFields); n != numFields {
		t.Errorf("numFields: got %d, want %d", numFields, n)
	}
}

func TestConcurrentEvaluators(t *testing.T) {
	env := newEnv(t)
	rules := compileAll(t, env, realisticRules)
	subjects := syntheticSubjects(2000, 9)
	want := make([][]bool, len(subjects))
	ev := env.NewEvaluator(rules)
	for i := range subjects {
		want[i] = make([]bool, len(rules))
		ev.Eval(&subjects[i], want[i])
	}
	done := make(chan error, 4)
	for range 4 {
		go func() {
			ev := env.NewEvaluator(rules)
			out := make([]bool, len(rules))
			for i := range subjects {
				ev.Eval(&subjects[i], out)
				for j := range out {
					if out[j] != want[i][j] {
						done <- errors.New("mismatch")
						return
					}
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompileRejectsExpensiveRules(t *testing.T) {
	env, err := NewEnv()
	if err != nil {
		t.Fatal(err)
	}
	ten := "[1,2,3,4,5,6,7,8,9,10]"
	for _, tc := range []struct {
		rule string
		ok   bool
	}{
		{fmt.Sprintf("%[1]s.all(a, %[1]s.all(b, %[1]s.all(c, %[1]s.all(d, %[1]s.all(e, a+b+c+d+e > 0)))))", ten), false},
		{fmt.Sprintf("%[1]s.map(a, %[1]s.map(b, %[1]s.map(c, %[1]s.map(d, a+b+c+d)))).size() > 0", ten), false},
		{fmt.Sprintf("%[1]s.all(a, %[1]s.all(b, a+b > 0))", ten), true},
		{`tags.all(a, tags.all(b, a != b || a == b))`, true}, // costly only for customers with many tags
		{`features.top_categories.exists(c, c in tags) && rfm.r_score >= 4 && tier == "vip"`, true},
	} {
		_, err := env.Compile(tc.rule)
		var ce *CompileError
		if tc.ok != (err == nil) || (err != nil && (!errors.As(err, &ce) || !strings.Contains(ce.Message, "exceeds the limit 10000; simplify it"))) {
			t.Errorf("Compile(%s) = %v, want ok %v", tc.rule, err, tc.ok)
		}
	}
}

// TestOverCostTellsFailuresApart checks that only a failure at the cost
// limit is reported as OverCost: the engine stops evaluating a rule after
// repeated cost failures but keeps going through cheap run-time errors.
func TestOverCostTellsFailuresApart(t *testing.T) {
	env := newEnv(t, withCostLimit(10_000))
	many := make([]string, 200)
	for i := range many {
		many[i] = "tag"
	}
	rules := compileAll(t, env, []string{
		`tags.all(a, tags.all(b, a == b))`,                 // over the cost limit for 200 tags
		`features.order_count / features.refund_count > 1`, // division by zero
		`"tag" in tags`,
	})
	ev := env.NewEvaluator(rules)
	out := make([]bool, 3)
	errs := ev.Eval(&Subject{Customer: &segmentation.Customer{ID: "h", Tags: many}}, out)
	if errs != 2 || out[0] || out[1] || !out[2] {
		t.Fatalf("got %v with %d errors, want [false false true] with 2", out, errs)
	}
	if !ev.Failed(0) || !ev.OverCost(0) {
		t.Errorf("rule 0: Failed %v, OverCost %v; want both true", ev.Failed(0), ev.OverCost(0))
	}
	if !ev.Failed(1) || ev.OverCost(1) {
		t.Errorf("rule 1: Failed %v, OverCost %v; want failed but not over cost", ev.Failed(1), ev.OverCost(1))
	}
	if ev.Failed(2) || ev.OverCost(2) {
		t.Errorf("rule 2: Failed %v, OverCost %v; want neither", ev.Failed(2), ev.OverCost(2))
	}
}
