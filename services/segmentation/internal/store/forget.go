package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tenurehq/tenure/services/platform/idempotency"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// Applying profile's deletion or erasure of a customer also forgets the
// idempotency keys of the API requests that named it (static member
// changes), in the page's transaction.

// migrateIdempotency creates the idempotency tables ApplyPage writes to.
// The service's runtime migrates them too; running the migrations twice is
// harmless.
func (s *Store) migrateIdempotency(ctx context.Context) error {
	if err := idempotency.NewStore(s.db).Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate idempotency keys: %w", err)
	}
	return nil
}

// forgetRequests forgets, in tx, the stored requests about the customers
// muts delete or re-key (erase).
func (s *Store) forgetRequests(ctx context.Context, tx *sql.Tx, muts []segmentation.Mutation) error {
	var subjects []string
	for i := range muts {
		if muts[i].Forgets() {
			subjects = append(subjects, idempotency.CustomerSubject(muts[i].ID))
		}
	}
	if len(subjects) == 0 {
		return nil
	}
	if err := idempotency.NewStore(s.db).Forget(ctx, tx, subjects...); err != nil {
		return fmt.Errorf("store: forget requests about deleted and erased customers: %w", err)
	}
	return nil
}
