package recommend

import "time"

// ChangeKind is what a Change does to the history.
type ChangeKind uint8

// Kinds of change.
const (
	// ChangeOrder records an order's lines.
	ChangeOrder ChangeKind = iota + 1
	// ChangeView records a product view (one line).
	ChangeView
	// ChangeDelete forgets the customer.
	ChangeDelete
	// ChangeRekey moves the customer's history to NewID (an erasure).
	ChangeRekey
)

// Change is one event of profile's log as the history sees it.
type Change struct {
	Sequence int64
	Kind     ChangeKind
	Customer string
	NewID    string // ChangeRekey
	At       time.Time
	Lines    []Line // ChangeOrder; one line for ChangeView
}

// Apply applies changes in order.
func (h *History) Apply(changes []Change) {
	for _, c := range changes {
		switch c.Kind {
		case ChangeOrder:
			h.AddOrder(c.Customer, c.At, c.Lines)
		case ChangeView:
			if len(c.Lines) > 0 {
				h.AddView(c.Customer, c.At, c.Lines[0])
			}
		case ChangeDelete:
			h.Delete(c.Customer)
		case ChangeRekey:
			if c.NewID != "" {
				h.Rekey(c.Customer, c.NewID)
			}
		}
	}
}
