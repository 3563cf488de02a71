// Package celrule holds what the services' CEL rule compilers share:
// finding the problem to report among cel-go's issues, with a 1-based
// position a rule writer can use.
package celrule

import (
	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
)

// Issue is one problem of a rule: its 1-based line and column (the column
// counts Unicode code points) and cel-go's message.
type Issue struct {
	Line, Column int
	Message      string
}

// FirstIssue returns the problem to report for issues: the first one with
// a position (a macro repeats a syntax error inside its arguments without
// a column, before the error itself), or else the first one, at 1:1 when
// it has no position.
func FirstIssue(iss *cel.Issues) Issue {
	errs := iss.Errors()
	if len(errs) == 0 {
		return Issue{Line: 1, Column: 1, Message: iss.Err().Error()}
	}
	first := errs[0]
	for _, e := range errs {
		if e.Location != nil && e.Location.Line() > 0 && e.Location.Column() >= 0 {
			first = e
			break
		}
	}
	line, col := Position(first.Location)
	return Issue{Line: line, Column: col, Message: first.Message}
}

// Position is the 1-based line and column of loc, 1:1 when it has none.
func Position(loc common.Location) (line, col int) {
	if loc == nil || loc.Line() < 1 {
		return 1, 1
	}
	return loc.Line(), max(loc.Column()+1, 1)
}
