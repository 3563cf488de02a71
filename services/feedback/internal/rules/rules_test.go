package rules

import (
	"errors"
	"slices"
	"testing"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

func compile(t *testing.T, c *Compiler, r feedback.Rule) feedback.CompiledRule {
	t.Helper()
	m, err := c.Compile(r)
	if err != nil {
		t.Fatalf("compile %s: %v", r.ID, err)
	}
	return feedback.CompiledRule{Rule: r, Matcher: m}
}

func TestKeywordMatching(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		keywords []string
		subject  string
		body     string
		want     bool
	}{
		{"chinese without segmentation", []string{"退款"}, "", "我要退款了，快递太慢", true},
		{"full-width latin", []string{"refund"}, "ＲＥＦＵＮＤ please", "", true},
		{"full-width keyword", []string{"ＶＩＰ"}, "", "i am a vip", true},
		{"case", []string{"Broken Screen"}, "BROKEN SCREEN on arrival", "", true},
		{"half-width katakana", []string{"ヘンピン"}, "", "ﾍﾝﾋﾟﾝ したい", true},
		{"any of several", []string{"late", "延迟"}, "", "订单延迟", true},
		{"no match", []string{"退款"}, "shipping question", "where is it", false},
		{"no keywords matches everything", nil, "", "anything", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := compile(t, c, feedback.Rule{ID: "r", Keywords: tt.keywords})
			got, err := r.Matcher.Match(&feedback.Subject{Ticket: &feedback.Ticket{Subject: tt.subject, Body: tt.body}})
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	rules := []feedback.CompiledRule{
		compile(t, c, feedback.Rule{ID: "vip-complaint", Condition: `ticket.type == "complaint" && customer.value_tier == "vip"`,
			SetPriority: feedback.PriorityUrgent, SetQueue: "vip", AddTags: []string{"vip"}}),
		compile(t, c, feedback.Rule{ID: "refund", Keywords: []string{"退款", "refund"}, SetType: feedback.TypeComplaint,
			SetQueue: "billing", AddTags: []string{"refund"}}),
		compile(t, c, feedback.Rule{ID: "gold", Condition: `customer.loyalty_tier == "gold" && "app" == ticket.channel`, SetPriority: feedback.PriorityHigh}),
	}
	tests := []struct {
		name     string
		ticket   feedback.Ticket
		customer feedback.CustomerContext
		matched  []string
		priority feedback.Priority
		queue    string
		tags     []string
		typ      feedback.TicketType
	}{
		{"vip complaint about a refund", feedback.Ticket{Type: feedback.TypeComplaint, Body: "我要退款"},
			feedback.CustomerContext{ValueTier: "vip"}, []string{"vip-complaint", "refund"}, feedback.PriorityUrgent, "vip", []string{"vip", "refund"}, feedback.TypeComplaint},
		{"regular refund", feedback.Ticket{Type: feedback.TypeInquiry, Body: "Refund?"},
			feedback.CustomerContext{ValueTier: "regular"}, []string{"refund"}, feedback.PriorityNormal, "billing", []string{"refund"}, feedback.TypeComplaint},
		{"gold app user", feedback.Ticket{Type: feedback.TypeInquiry, Channel: "app", Body: "hello"},
			feedback.CustomerContext{LoyaltyTier: "gold"}, []string{"gold"}, feedback.PriorityHigh, "general", nil, feedback.TypeInquiry},
		{"no loyalty service: tier empty", feedback.Ticket{Type: feedback.TypeInquiry, Channel: "app", Body: "hello"},
			feedback.CustomerContext{}, nil, feedback.PriorityNormal, "general", nil, feedback.TypeInquiry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tt.ticket
			tk.Priority, tk.Queue = feedback.PriorityNormal, feedback.DefaultQueue
			matched := feedback.Classify(&tk, rules, tt.customer)
			if !slices.Equal(matched, tt.matched) || tk.Priority != tt.priority || tk.Queue != tt.queue || !slices.Equal(tk.Tags, tt.tags) || tk.Type != tt.typ {
				t.Fatalf("got %v %s %s %v %s, want %v %s %s %v %s", matched, tk.Priority, tk.Queue, tk.Tags, tk.Type,
					tt.matched, tt.priority, tt.queue, tt.tags, tt.typ)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, cond := range []string{`ticket.type ==`, `customer.value_tier`, `unknown_var == 1`, `ticket.tags.exists(t, t ==)`, "\n\n  )"} {
		_, err := c.Compile(feedback.Rule{ID: "bad", Condition: cond})
		var ce *CompileError
		if !errors.As(err, &ce) || !errors.Is(err, feedback.ErrInvalidRule) || ce.Line < 1 || ce.Column < 1 {
			t.Errorf("compile %q: got %v, want a CompileError wrapping ErrInvalidRule", cond, err)
		}
	}
}
