package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/sqlstoretest"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
	"github.com/tenurehq/tenure/services/segmentation/internal/store"
)

// TestConcurrentFirstPages: two replicas apply their first pages at once,
// (0, 5] and (0, 3]: the second waits for the first on the cursor row and
// is then ignored, so the cursor stays at 5 and each event counts once.
// (Without a cursor row to lock, both read cursor 0 and the later commit
// moved the cursor back to 3.)
func TestConcurrentFirstPages(t *testing.T) {
	ctx := context.Background()
	db := sqlstoretest.Postgres(t)
	inCommit, release := make(chan struct{}), make(chan struct{})
	first := true
	s := store.New(db, store.WithBeforeCommit(func(context.Context, *sql.Tx, int64, int64) error {
		if first {
			first = false
			close(inCommit)
			<-release
		}
		return nil
	}))
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	page := func(to int64) error {
		var seqs []int64
		for i := int64(1); i <= to; i++ {
			seqs = append(seqs, i)
		}
		return s.ApplyPage(ctx, []segmentation.Mutation{{Kind: segmentation.MutationUpsert, ID: "c"}}, to, seqs)
	}
	errs := make(chan error, 2)
	go func() { errs <- page(5) }()
	<-inCommit
	go func() { errs <- page(3) }()
	time.Sleep(200 * time.Millisecond) // the second page reaches the cursor row
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	cursor, err := s.Cursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := s.AppliedEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cursor != 5 || applied != 5 {
		t.Errorf("cursor %d, %d events applied; want 5 and 5", cursor, applied)
	}
}
