package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/idempotency"
)

// Erasing or deleting a customer also forgets the API responses about it
// that the idempotency interceptor stored in this database (they hold its
// name, email, phone and birthday), in the same transaction, so the
// personal data goes everywhere at once or nowhere.

// migrateIdempotency creates the idempotency tables the erase and delete
// transactions write to. The service's runtime migrates them too; running
// the migrations twice is harmless.
func (s *Store) migrateIdempotency(ctx context.Context) error {
	if err := idempotency.NewStore(s.db).Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate idempotency keys: %w", err)
	}
	return nil
}

// forgetResponses forgets, in tx, the stored responses about customer id.
func (s *Store) forgetResponses(ctx context.Context, tx *sql.Tx, id string) error {
	if err := idempotency.NewStore(s.db).Forget(ctx, tx, idempotency.CustomerSubject(id)); err != nil {
		return fmt.Errorf("store: forget stored responses about %s: %w", id, err)
	}
	return nil
}
