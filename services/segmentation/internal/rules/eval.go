package rules

import (
	"errors"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Subject is what rules are evaluated against: a customer's features and
// tags, and its RFM result from the recompute. A nil Customer has no
// features and no tags; a nil Result is a prospect (zero values and scores,
// segment "", tier "", lifecycle "prospect").
type Subject struct {
	Customer *segmentation.Customer
	Result   *segmentation.Result
	// Recommendations, when set, answers `recommendations` (read only if a
	// rule reads it).
	Recommendations Recommendations
	// Prediction is the customer's predictions; nil: none.
	Prediction *segmentation.Prediction
}

// Recommendations is the recommendation model's view of customers
// (recommend.Model).
type Recommendations interface {
	// TopCategory is the category the customer bought most from, "" if none.
	TopCategory(customerID string) string
}

// numFields is the number of values an Evaluator caches per subject.
const numFields = 28

// Evaluator evaluates a fixed list of rules against one subject at a time.
// Each variable's value is built at most once per subject, the first time a
// rule reads it, and shared by the rules. An Evaluator is not safe for
// concurrent use: make one per goroutine; the rules may be shared.
type Evaluator struct {
	rules    []*Rule
	subject  *Subject
	built    uint32 // bit i set: vals[i] holds field i's value for subject
	vals     [numFields]ref.Val
	features object
	rfm      object
	recs     object
	pred     object
	act      activation
	frame    *interpreter.ExecutionFrame // reused by untracked programs
	// bounded is whether the subject's inputs are within the bounds the
	// untracked programs' cost estimates assume; valid if boundedKnown.
	bounded, boundedKnown bool
	disabled              []bool // rules Eval skips
	failed                []bool // rules that failed in the last Eval
	overCost              []bool // rules stopped by the cost limit in the last Eval
}

// activation resolves the rule variables of an Evaluator's current subject.
type activation struct{ ev *Evaluator }

// NewEvaluator returns an Evaluator for rules. Eval writes one result per
// rule, in order.
func (e *Env) NewEvaluator(rules []*Rule) *Evaluator {
	ev := &Evaluator{rules: rules, disabled: make([]bool, len(rules)), failed: make([]bool, len(rules)), overCost: make([]bool, len(rules))}
	ev.features = object{typ: featuresType, ev: ev}
	ev.rfm = object{typ: rfmType, ev: ev}
	ev.recs = object{typ: recommendationsType, ev: ev}
	ev.pred = object{typ: predictionType, ev: ev}
	ev.act = activation{ev: ev}
	frame, err := interpreter.NewExecutionFrame(&ev.act)
	if err == nil {
		ev.frame = frame
	}
	return ev
}

// Eval evaluates every rule against s and sets out[i] to whether rule i
// holds; out must have at least as many elements as there are rules. A rule
// whose evaluation fails (a runtime error such as an overflow, or the cost
// limit exceeded) is false, and the number of such rules is returned;
// Failed tells which. A disabled rule is false and not an error.
func (ev *Evaluator) Eval(s *Subject, out []bool) (errs int) {
	ev.subject = s
	ev.built = 0
	ev.boundedKnown = false
	out = out[:len(ev.rules)]
	clear(ev.failed)
	clear(ev.overCost)
	for i, r := range ev.rules {
		if ev.disabled[i] {
			out[i] = false
			continue
		}
		var v ref.Val
		var err error
		if r.untracked != nil && ev.frame != nil && ev.withinBounds() {
			v, _, err = r.untracked.Eval(ev.frame)
		} else {
			v, _, err = r.tracked.Eval(&ev.act)
		}
		if err != nil {
			out[i] = false
			ev.failed[i] = true
			ev.overCost[i] = overCostLimit(err)
			errs++
			continue
		}
		b, ok := v.(types.Bool)
		out[i] = ok && bool(b)
		if !ok {
			ev.failed[i] = true
			errs++
		}
	}
	ev.subject = nil
	return errs
}

// Failed reports whether rule i failed in the last Eval.
func (ev *Evaluator) Failed(i int) bool { return ev.failed[i] }

// OverCost reports whether rule i failed in the last Eval because it hit
// the cost limit, the one failure that is expensive to repeat.
func (ev *Evaluator) OverCost(i int) bool { return ev.overCost[i] }

func overCostLimit(err error) bool {
	var cancelled interpreter.EvalCancelledError
	return errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded
}

// Disable makes Eval skip rule i from now on: it is false for every
// subject and not counted as an error.
func (ev *Evaluator) Disable(i int) { ev.disabled[i] = true }

// withinBounds reports whether the current subject's lists and strings
// are within maxListLen and maxStringLen.
func (ev *Evaluator) withinBounds() bool {
	if !ev.boundedKnown {
		ev.bounded = subjectWithinBounds(ev.subject)
		ev.boundedKnown = true
	}
	return ev.bounded
}

func subjectWithinBounds(s *Subject) bool {
	if s.Customer == nil {
		return true
	}
	f := &s.Customer.Features
	return len(f.Currency) <= maxStringLen && len(topCategoryOf(s)) <= maxStringLen && len(f.PreferredChannel) <= maxStringLen &&
		listWithinBounds(f.TopCategories) && listWithinBounds(s.Customer.Tags)
}

func listWithinBounds(l []string) bool {
	if len(l) > maxListLen {
		return false
	}
	for _, s := range l {
		if len(s) > maxStringLen {
			return false
		}
	}
	return true
}

// value returns field i of the current subject, building it on first use.
func (ev *Evaluator) value(i int) ref.Val {
	if ev.built&(1<<i) != 0 {
		return ev.vals[i]
	}
	var v ref.Val
	switch {
	case i < len(featuresFields):
		v = featuresFields[i].get(ev.subject)
	case i < len(featuresFields)+len(rfmFields):
		v = rfmFields[i-len(featuresFields)].get(ev.subject)
	case i < len(featuresFields)+len(rfmFields)+len(recommendationsFields):
		v = recommendationsFields[i-len(featuresFields)-len(rfmFields)].get(ev.subject)
	case i < firstPrediction:
		v = topFields[i-len(featuresFields)-len(rfmFields)-len(recommendationsFields)].get(ev.subject)
	default:
		v = predictionFields[i-firstPrediction].get(ev.subject)
	}
	ev.vals[i] = v
	ev.built |= 1 << i
	return v
}

// ResolveName implements interpreter.Activation.
func (a *activation) ResolveName(name string) (any, bool) {
	ev := a.ev
	switch name {
	case "features":
		return &ev.features, true
	case "rfm":
		return &ev.rfm, true
	case "recommendations":
		return &ev.recs, true
	case "lifecycle":
		return ev.value(firstPrediction - 3), true
	case "tier":
		return ev.value(firstPrediction - 2), true
	case "tags":
		return ev.value(firstPrediction - 1), true
	case "prediction":
		return &ev.pred, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (a *activation) Parent() interpreter.Activation { return nil }

// newStringList returns a CEL list(string) over elems without copying them.
func newStringList(elems []string) ref.Val {
	return types.NewStringList(types.DefaultTypeAdapter, elems)
}
