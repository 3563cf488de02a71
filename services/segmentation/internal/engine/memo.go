package engine

import (
	"slices"

	"github.com/tenurehq/tenure/services/segmentation/internal/rules"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// evaluation is what a recompute decided about each customer, kept so that
// the next recompute can reuse it: a rule's value depends only on the
// customer's inputs and RFM result, so a customer whose inputs (the same
// immutable value from the input table) and result are unchanged, under
// the same rules, is in the same rule segments.
type evaluation struct {
	rules     []string // each rule segment's id and rule, in evaluation order
	recs      rules.Recommendations
	customers []*segmentation.Customer
	results   []segmentation.Result
	preds     []segmentation.Prediction
	in        []bool // in[i*k+j]: customer i is in rule segment j
	failed    []bool // some rule failed for customer i (evaluated again)
	// op and gen are the operation that stored these results and the
	// results generation it read before loading its inputs; op is empty
	// until it stored them.
	op  string
	gen int64
}

// ruleKeys identifies a rule set: its segments' ids and rules, in order.
// A rule that reads the recommendation model depends on more than the
// customer's inputs: its key names the model too, so that it is never
// reused across recomputes.
func ruleKeys(rs ruleSet) []string {
	keys := make([]string, len(rs.ids))
	for j, id := range rs.ids {
		keys[j] = id + "\x00" + rs.compiled[j].Expr()
		if rs.recs != nil && rs.compiled[j].ReadsRecommendations() {
			keys[j] += "\x00" + rs.modelStamp
		}
	}
	return keys
}

// reuse says, for each customer of a recompute, where the previous
// evaluation's row for it is (-1: none or not reusable).
type reuse struct {
	prev *evaluation
	at   []int32
}

// reusable matches customers to prev's customers by id (both in id
// order); nil when prev is nil or was made under other rules.
func reusable(prev *evaluation, keys []string, customers []*segmentation.Customer) *reuse {
	if prev == nil || len(keys) == 0 || !slices.Equal(prev.rules, keys) {
		return nil
	}
	at := make([]int32, len(customers))
	j := 0
	for i, c := range customers {
		at[i] = -1
		for j < len(prev.customers) && prev.customers[j].ID < c.ID {
			j++
		}
		if j < len(prev.customers) && prev.customers[j] == c && !prev.failed[j] {
			at[i] = int32(j)
		}
	}
	return &reuse{prev: prev, at: at}
}

// row copies the previous rule values of customer i, whose result is now
// r and prediction p, into out and reports whether it could (same inputs,
// result and prediction).
func (u *reuse) row(i int, r *segmentation.Result, p *segmentation.Prediction, out []bool) bool {
	if u == nil {
		return false
	}
	j := int(u.at[i])
	if j < 0 || u.prev.results[j] != *r || u.prev.preds[j] != *p {
		return false
	}
	k := len(out)
	copy(out, u.prev.in[j*k:(j+1)*k])
	return true
}

// maxChangedShare is the share of changed rows above which a recompute
// rewrites every result row (one bulk write then costs less than that
// many single-row changes), unless they are fewer than minChangedLimit.
const (
	maxChangedShare = 4 // one in four
	minChangedLimit = 4096
)

// diff sets set's Base, BaseGeneration, Changed and Removed (see
// segmentation.ResultSet) against prev, the evaluation whose results the
// store holds if nothing else wrote them, when prev was made under the
// same rules and few enough rows changed; otherwise it leaves them unset
// and the store rewrites every row.
func diff(prev, cur *evaluation, set *segmentation.ResultSet) {
	if prev == nil || prev.op == "" || !slices.Equal(prev.rules, cur.rules) {
		return
	}
	k := len(cur.rules)
	limit := max(len(cur.customers)/maxChangedShare, minChangedLimit)
	var changed []int
	var removed []string
	j := 0
	for i, c := range cur.customers {
		for ; j < len(prev.customers) && prev.customers[j].ID < c.ID; j++ {
			removed = append(removed, prev.customers[j].ID)
		}
		same := j < len(prev.customers) && prev.customers[j].ID == c.ID &&
			prev.results[j] == cur.results[i] && prev.customers[j].Features.Currency == c.Features.Currency &&
			slices.Equal(prev.in[j*k:(j+1)*k], cur.in[i*k:(i+1)*k])
		if j < len(prev.customers) && prev.customers[j].ID == c.ID {
			j++
		}
		if !same {
			changed = append(changed, i)
		}
		if len(changed)+len(removed) > limit {
			return
		}
	}
	for ; j < len(prev.customers); j++ {
		removed = append(removed, prev.customers[j].ID)
	}
	if len(changed)+len(removed) > limit {
		return
	}
	set.Base, set.BaseGeneration, set.Changed, set.Removed = prev.op, prev.gen, changed, removed
}
