package outreach

import (
	"context"
	"errors"
	"time"
)

// Storage errors.
var (
	ErrMessageNotFound = errors.New("outreach: message not found")
	// ErrConflict: the message changed since it was read (another replica
	// recorded an attempt first).
	ErrConflict = errors.New("outreach: message changed concurrently")
)

// MessageStore keeps messages, their outbox and the frequency-cap
// counters. Implementations must hold across replicas: every change is a
// guarded write or one transaction.
type MessageStore interface {
	// CreateMessage stores m and its outbox entry, due at m.Due, in one
	// transaction, unless a message with m.ID exists (the occurrence was
	// seen before) or its journey is paused or deleted: created says
	// which. When m.Coupon names a pool, the same transaction gives the
	// message one unused code of it, assigned to the customer (none when
	// the pool has no free code).
	CreateMessage(ctx context.Context, m Message) (created bool, err error)
	// GetMessage returns a message or ErrMessageNotFound.
	GetMessage(ctx context.Context, id string) (Message, error)
	// Claim returns up to limit messages whose outbox entry is due at now
	// and not claimed by another dispatcher, in due order, each claimed
	// until now + lease (a dispatcher that dies loses its claims when they
	// lapse).
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Message, error)
	// Charge applies a message's cap charges (see Charges) in one
	// transaction, once per message: ok is false, and nothing is counted,
	// when a cap is reached. Charging a message that was charged before
	// answers true without counting again.
	Charge(ctx context.Context, messageID string, charges []Charge) (ok bool, err error)
	// Record stores next, the message after an attempt, if the stored one
	// is still prev (its state and attempts), else ErrConflict. A message
	// with attempts left keeps its outbox entry, due at next.Due and
	// unclaimed; a final or sent one loses it. A message that ends
	// suppressed or dead gives its coupon code back to the pool, unless
	// the code was used.
	Record(ctx context.Context, prev, next Message) error
	// ChargeAll applies several messages' cap charges, in order, in one
	// transaction, each message's as Charge does: ok[i] is false, and
	// none of its charges counted, when a cap stopped message i.
	ChargeAll(ctx context.Context, reqs []ChargeRequest) (ok []bool, err error)
	// RecordAll records several attempts in one transaction, each as
	// Record does; conflicts[i] is ErrConflict when message i changed
	// since it was read (and nil when it was recorded).
	RecordAll(ctx context.Context, changes []Change) (conflicts []error, err error)
}

// ChargeRequest is one message's cap charges.
type ChargeRequest struct {
	MessageID string
	Charges   []Charge
}

// Change is a message before and after an attempt.
type Change struct {
	Prev, Next Message
}
