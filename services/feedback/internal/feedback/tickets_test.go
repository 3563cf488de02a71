package feedback

import (
	"errors"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

func TestValidateTicket(t *testing.T) {
	ok := Ticket{CustomerID: "c-1", Channel: "web", Body: "hello"}
	tests := []struct {
		name  string
		edit  func(*Ticket)
		field string
	}{
		{"valid", func(*Ticket) {}, ""},
		{"guest with email", func(t *Ticket) { t.CustomerID, t.Email = "", "ada@example.com" }, ""},
		{"nobody", func(t *Ticket) { t.CustomerID = "" }, "ticket.customer_id"},
		{"bad email", func(t *Ticket) { t.Email = "ada" }, "ticket.email"},
		{"no channel", func(t *Ticket) { t.Channel = "" }, "ticket.channel"},
		{"unknown type", func(t *Ticket) { t.Type = "99" }, "ticket.type"},
		{"unknown priority", func(t *Ticket) { t.Priority = 99 }, "ticket.priority"},
		{"blank body", func(t *Ticket) { t.Body = "  " }, "ticket.body"},
		{"too many tags", func(t *Ticket) { t.Tags = make([]string, 51) }, "ticket.tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := ok
			tt.edit(&tk)
			err := validateTicket(&tk, "ticket.")
			var fe *fielderr.Error
			if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &fe) || fe.Path != tt.field) {
				t.Fatalf("got %v, want a problem with %q", err, tt.field)
			}
		})
	}
}
