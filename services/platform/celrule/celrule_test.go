package celrule

import (
	"testing"

	"cel.dev/cel-go/cel"
)

func TestFirstIssue(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("tags", cel.ListType(cel.StringType)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr         string
		line, column int
	}{
		{"tags ==", 1, 8},
		{"unknown == 1", 1, 1},
		{"tags.exists(t, t ==)", 1, 20},
		{"true &&\n  nope", 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, iss := env.Compile(tt.expr)
			if iss.Err() == nil {
				t.Fatal("compiled, want an issue")
			}
			got := FirstIssue(iss)
			if got.Line != tt.line || got.Column != tt.column || got.Message == "" {
				t.Fatalf("got %+v, want line %d column %d with a message", got, tt.line, tt.column)
			}
		})
	}
}
