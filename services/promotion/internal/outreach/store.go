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
	// which.
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
	// unclaimed; a final or sent one loses it.
	Record(ctx context.Context, prev, next Message) error
}
