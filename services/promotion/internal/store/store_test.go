package store_test

import (
	"context"
	"testing"

	"github.com/tenurehq/tenure/services/platform/sqlstore"
	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/promotion/internal/promotion"
	"github.com/tenurehq/tenure/services/promotion/internal/store"
	"github.com/tenurehq/tenure/services/promotion/internal/store/storetest"
)

func migrated(t testing.TB, db *sqlstore.DB) promotion.Store {
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
		storetest.Run(t, func(t *testing.T) promotion.Store {
			db, _ := sqlstoretest.SQLiteDSN(t)
			return migrated(t, db)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) promotion.Store {
			db, _ := sqlstoretest.PostgresDSN(t)
			return migrated(t, db)
		})
	})
}
