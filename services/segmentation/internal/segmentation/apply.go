package segmentation

// EventKind is what a profile event means to segmentation's inputs.
type EventKind uint8

const (
	// EventOther is any customer activity: it may change the features.
	EventOther EventKind = iota
	// EventCustomerUpdated carries the customer's tags.
	EventCustomerUpdated
	// EventCustomerDeleted forgets the customer.
	EventCustomerDeleted
	// EventCustomerErased re-keys the customer to an anonymous id.
	EventCustomerErased
)

// StreamEvent is one event of profile's log as segmentation sees it.
type StreamEvent struct {
	Sequence   int64
	CustomerID string
	Kind       EventKind
	// Tags is set for EventCustomerUpdated.
	Tags []string
	// AnonymousID is set for EventCustomerErased.
	AnonymousID string
	// Features are the customer's current features sent with the event;
	// nil when the customer no longer exists.
	Features *Features
	// Purchase is set for an order: its day and total.
	Purchase *PurchaseDay
}

// MutationKind is what a Mutation does.
type MutationKind uint8

const (
	// MutationUpsert creates the customer if missing and replaces the
	// features and tags that are set.
	MutationUpsert MutationKind = iota + 1
	// MutationDelete removes the customer and its static memberships.
	MutationDelete
	// MutationRekey moves the customer's inputs from ID to NewID and drops
	// the static memberships of ID.
	MutationRekey
)

// Mutation is one change to the stored inputs. Mutations of one page are
// applied in order, in one transaction with the cursor.
type Mutation struct {
	Kind     MutationKind
	ID       string
	NewID    string    // MutationRekey
	Features *Features // MutationUpsert: replace the features when set
	Tags     []string  // MutationUpsert: replace the tags when SetTags
	SetTags  bool
	// Purchases are added to the customer's purchase days
	// (MutationUpsert), ascending, one entry per day.
	Purchases []PurchaseDay
}

// Forgets reports whether m deletes or re-keys (erases) a customer, so
// that its stored result and the requests naming it must go too.
func (m Mutation) Forgets() bool {
	return m.Kind == MutationDelete || m.Kind == MutationRekey
}

// PlanPage turns a page of events into the mutations that apply it, in
// order. Consecutive changes to the same customer are merged into one
// upsert (the latest features and tags win) as long as no delete or re-key
// of that customer comes between them, so a page of n events usually
// needs far fewer than n writes.
func PlanPage(events []StreamEvent) []Mutation {
	var out []Mutation
	last := make(map[string]int, len(events)) // customer id → index of its latest mutation
	for i := range events {
		e := &events[i]
		if e.CustomerID == "" {
			continue
		}
		switch e.Kind {
		case EventCustomerDeleted:
			out = append(out, Mutation{Kind: MutationDelete, ID: e.CustomerID})
			last[e.CustomerID] = len(out) - 1
		case EventCustomerErased:
			if e.AnonymousID == "" || e.AnonymousID == e.CustomerID {
				continue
			}
			out = append(out, Mutation{Kind: MutationRekey, ID: e.CustomerID, NewID: e.AnonymousID})
			last[e.CustomerID] = len(out) - 1
			last[e.AnonymousID] = len(out) - 1
		default:
			var m *Mutation
			if j, ok := last[e.CustomerID]; ok && out[j].Kind == MutationUpsert && out[j].ID == e.CustomerID {
				m = &out[j]
			} else {
				out = append(out, Mutation{Kind: MutationUpsert, ID: e.CustomerID})
				last[e.CustomerID] = len(out) - 1
				m = &out[len(out)-1]
			}
			if e.Features != nil {
				m.Features = e.Features
			}
			if e.Kind == EventCustomerUpdated {
				m.Tags, m.SetTags = e.Tags, true
			}
			if e.Purchase != nil {
				m.Purchases = AddPurchases(m.Purchases, []PurchaseDay{*e.Purchase})
			}
		}
	}
	return out
}
