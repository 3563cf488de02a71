// Package rules compiles and evaluates rule segments: CEL expressions over a
// customer's features, RFM values and scores, lifecycle stage, value tier
// and tags, such as `rfm.r_score >= 4 && "newsletter" in tags`.
//
// An Env type-checks rules; a Rule is an immutable compiled program that may
// be shared by goroutines; an Evaluator evaluates a set of rules against one
// customer at a time, building each variable at most once per customer and
// only if some rule reads it.
package rules

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"

	"github.com/tenurehq/tenure/services/platform/celrule"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Defaults of the limits an Env applies.
const (
	// DefaultCostLimit bounds the CEL runtime cost of one evaluation of one
	// rule. Realistic rules cost well under 100 (a comprehension over the
	// tags or top categories, at most 64 elements, a few hundred); the limit
	// stops rules that iterate over lists in nested comprehensions or build
	// large values, and a rule whose estimated minimum cost exceeds it is
	// rejected when compiled.
	DefaultCostLimit = 10_000
	// DefaultMaxLength is the longest rule accepted, in Unicode code points.
	DefaultMaxLength = 4096
	// maxNodes bounds the size of a rule's syntax tree; maxNesting its depth.
	maxNodes   = 1000
	maxNesting = 32
)

// CompileError is a rule that does not compile: a syntax or type error, a
// result that is not a bool, or a rule over the size limits. Line and
// Column are 1-based and point at the first problem (Column counts Unicode
// code points). It wraps segmentation.ErrInvalidRule.
type CompileError struct {
	Line, Column int
	Message      string
}

// Error implements error.
func (e *CompileError) Error() string {
	return fmt.Sprintf("rules: line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// Unwrap returns segmentation.ErrInvalidRule.
func (e *CompileError) Unwrap() error { return segmentation.ErrInvalidRule }

// Option configures an Env. Production uses the defaults; the options
// exist so tests reach the limits with small rules.
type Option func(*Env)

// withCostLimit sets the CEL runtime cost limit of one evaluation of one
// rule (default DefaultCostLimit). A rule that exceeds it evaluates to
// false and counts as an error.
func withCostLimit(limit uint64) Option { return func(e *Env) { e.costLimit = limit } }

// withMaxLength sets the longest rule accepted, in code points (default
// DefaultMaxLength).
func withMaxLength(n int) Option { return func(e *Env) { e.maxLength = n } }

// Env compiles rules. It is safe for concurrent use.
type Env struct {
	env       *cel.Env
	costLimit uint64
	maxLength int
}

// NewEnv returns the environment that declares the rule variables:
//
//	features   tenure.segmentation.Features: order_count, refund_count, gross_spend,
//	           net_spend, average_order_value (int, minor units), currency,
//	           preferred_channel (string), discount_share (double),
//	           top_categories (list(string)), first_order_time, last_order_time,
//	           last_activity_time (timestamp)
//	rfm        tenure.segmentation.Rfm: recency_days, frequency, monetary, r_score,
//	           f_score, m_score (int), segment (string)
//	lifecycle  string   "prospect", "new", "active", "dormant", "churned"
//	tier       string   "vip", "potential", "regular", "at_risk", or "" for prospects
//	tags       list(string)
//	recommendations  tenure.segmentation.Recommendations: top_category (string,
//	           the category the customer bought most from; "" if none)
//	prediction tenure.segmentation.Prediction: predicted (bool), p_alive,
//	           expected_purchases, expected_order_value (minor units),
//	           clv (minor units) (double)
func NewEnv(opts ...Option) (*Env, error) {
	e := &Env{costLimit: DefaultCostLimit, maxLength: DefaultMaxLength}
	for _, o := range opts {
		o(e)
	}
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, fmt.Errorf("rules: type registry: %w", err)
	}
	env, err := cel.NewEnv(
		cel.CustomTypeProvider(newProvider(reg)),
		cel.CustomTypeAdapter(reg),
		cel.Variable("features", featuresType),
		cel.Variable("rfm", rfmType),
		cel.Variable("recommendations", recommendationsType),
		cel.Variable(topFields[0].name, topFields[0].typ),
		cel.Variable(topFields[1].name, topFields[1].typ),
		cel.Variable(topFields[2].name, topFields[2].typ),
		cel.Variable("prediction", predictionType),
		cel.ParserExpressionSizeLimit(e.maxLength),
		cel.ExpressionNodeLimit(maxNodes),
		cel.ExpressionNestingDepthLimit(maxNesting),
		cel.ParserRecursionLimit(maxNesting*4),
	)
	if err != nil {
		return nil, fmt.Errorf("rules: cel environment: %w", err)
	}
	e.env = env
	return e, nil
}

// Rule is a compiled, type-checked rule. It is immutable and safe for
// concurrent use.
type Rule struct {
	expr string
	// tracked enforces the cost limit; untracked, if not nil, doesn't and
	// is used for subjects within the input bounds, on which the rule
	// costs at most maxCost.
	tracked, untracked cel.Program
	maxCost            uint64
	// readsRecommendations: the rule reads the recommendations variable,
	// whose value comes from the model, not from the customer's inputs.
	readsRecommendations bool
}

// ReadsRecommendations reports whether the rule reads `recommendations`.
func (r *Rule) ReadsRecommendations() bool { return r.readsRecommendations }

// Expr returns the rule's source text.
func (r *Rule) Expr() string { return r.expr }

// Compile parses and type-checks expr, which must evaluate to a bool. Any
// problem is returned as a *CompileError.
func (e *Env) Compile(expr string) (*Rule, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, &CompileError{Line: 1, Column: 1, Message: "empty rule"}
	}
	if n := len([]rune(expr)); n > e.maxLength {
		return nil, &CompileError{Line: 1, Column: 1, Message: fmt.Sprintf("rule is %d characters long, at most %d", n, e.maxLength)}
	}
	ast, iss := e.env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, issueError(iss)
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		line, col := celrule.Position(ast.NativeRep().SourceInfo().GetStartLocation(ast.NativeRep().Expr().ID()))
		return nil, &CompileError{Line: line, Column: col, Message: fmt.Sprintf("rule must be a bool, got %s", typeNames.Replace(cel.FormatCELType(ast.OutputType())))}
	}
	r := &Rule{expr: expr}
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == "recommendations" {
			r.readsRecommendations = true
		}
	}
	var err error
	if r.tracked, err = e.env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(e.costLimit)); err != nil {
		// Planning fails on constants that can't be built once folded,
		// e.g. timestamp("not a time").
		return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
	}
	// A rule that costs more than the limit even in its cheapest case
	// would fail on every customer: reject it. A rule whose worst case
	// cost, over subjects within the input bounds, is within the limit
	// cannot exceed the limit on such subjects: it also gets a program
	// without cost tracking, which is much faster.
	if least, err := e.env.EstimateCost(ast, boundsEstimator{empty: true}); err == nil {
		// least.Max is the worst case over the rule's branches when every
		// input list and string is empty: what the rule's own constants
		// cost, whatever the customer.
		if n := max(least.Min, least.Max); n > e.costLimit {
			return nil, &CompileError{Line: 1, Column: 1,
				Message: fmt.Sprintf("rule's estimated cost %d exceeds the limit %d; simplify it", n, e.costLimit)}
		}
	}
	est, err := e.env.EstimateCost(ast, boundsEstimator{})
	if err == nil && est.Max <= e.costLimit {
		if r.untracked, err = e.env.Program(ast, cel.EvalOptions(cel.OptOptimize)); err != nil {
			return nil, &CompileError{Line: 1, Column: 1, Message: err.Error()}
		}
		r.maxCost = est.Max
	}
	return r, nil
}

// Bounds on a subject's inputs under which a rule's estimated worst case
// cost holds: lists have at most maxListLen elements and strings at most
// maxStringLen bytes.
const (
	maxListLen   = 64
	maxStringLen = 256
)

// boundsEstimator sizes the rule variables for cost estimation: every list
// and string reachable from a variable is within the input bounds, or, if
// empty, has no elements.
type boundsEstimator struct{ empty bool }

// EstimateSize implements cost.Estimator.
func (b boundsEstimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	if n.Path() == nil {
		return nil
	}
	if b.empty {
		switch n.Type().Kind() {
		case types.ListKind, types.StringKind:
			return &cost.SizeEstimate{Min: 0, Max: 0}
		}
		return nil
	}
	switch n.Type().Kind() {
	case types.ListKind:
		return &cost.SizeEstimate{Min: 0, Max: maxListLen}
	case types.StringKind:
		return &cost.SizeEstimate{Min: 0, Max: maxStringLen}
	}
	return nil
}

// EstimateCallCost implements cost.Estimator; the standard costs apply.
func (boundsEstimator) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// issueError converts CEL's issues to a *CompileError about the first one
// with a position.
func issueError(iss *cel.Issues) error {
	first := celrule.FirstIssue(iss)
	return &CompileError{Line: first.Line, Column: first.Column, Message: typeNames.Replace(first.Message)}
}

// typeNames renames the CEL object types in messages to the variables a
// rule writer knows: "got features", not "got tenure.segmentation.Features".
var typeNames = strings.NewReplacer(featuresTypeName, "features", rfmTypeName, "rfm", recommendationsTypeName, "recommendations")
