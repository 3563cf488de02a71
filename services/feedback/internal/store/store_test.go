package store_test

import (
	"context"
	"testing"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
	"github.com/tenurehq/tenure/services/feedback/internal/store"
	"github.com/tenurehq/tenure/services/feedback/internal/store/storetest"
	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
)

func migrated(t testing.TB, db *sqlstore.DB) *store.Store {
	t.Helper()
	s := store.New(db)
	for range 2 { // migrating twice is a no-op the second time
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) feedback.Store { return migrated(t, sqlstoretest.SQLite(t)) })
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) feedback.Store { return migrated(t, sqlstoretest.Postgres(t)) })
	})
}
