package feedback

import "context"

// Erasure is a customer profile erased: its records move to AnonymousID.
type Erasure struct {
	Sequence    int64
	CustomerID  string
	AnonymousID string
}

// ErasureStore applies profile's erasures to the feedback records.
type ErasureStore interface {
	// Cursor is the sequence of the last profile event applied.
	Cursor(ctx context.Context) (int64, error)
	// ApplyErasures moves the tickets and answers of each erased customer
	// to its anonymous id, clears the tickets' email, and stores last as
	// the cursor, in one transaction; erasures at or below the stored
	// cursor were applied already and are skipped.
	ApplyErasures(ctx context.Context, erasures []Erasure, last int64) error
}
