package store_test

import (
	"context"
	"testing"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
	"github.com/tenurehq/tenure/services/loyalty/internal/store"
	"github.com/tenurehq/tenure/services/loyalty/internal/store/storetest"
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

// replicas returns two stores over one database, the second through its
// own connections.
func replicas(t *testing.T, db *sqlstore.DB, dsn string) (loyalty.Store, loyalty.Store) {
	t.Helper()
	second, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })
	return migrated(t, db), store.New(second)
}

func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) (loyalty.Store, loyalty.Store) {
			db, dsn := sqlstoretest.SQLiteDSN(t)
			return replicas(t, db, dsn)
		})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) (loyalty.Store, loyalty.Store) {
			db, dsn := sqlstoretest.PostgresDSN(t)
			return replicas(t, db, dsn)
		})
	})
}
