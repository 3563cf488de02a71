package loyalty

import (
	"context"
	"testing"
	"time"
)

// countingStore serves one stored programme and counts the reads.
type countingStore struct {
	Store // the other methods are not used
	p     Programme
	reads int
}

func (s *countingStore) Programme(context.Context, int64) (Programme, error) {
	s.reads++
	return s.p, nil
}

// TestProgrammeIsKeptInMemory: the current programme is read once, again
// after a notice of a newer version or a forget-all notice, and again once
// it is a minute old.
func TestProgrammeIsKeptInMemory(t *testing.T) {
	now := t0
	st := &countingStore{p: Programme{Version: 3}}
	s := NewService(st, func() time.Time { return now })
	read := func(wantReads int) {
		t.Helper()
		p, err := s.Programme(context.Background(), 0)
		if err != nil || p.Version != st.p.Version || st.reads != wantReads {
			t.Fatalf("got version %d after %d reads (%v), want %d after %d", p.Version, st.reads, err, st.p.Version, wantReads)
		}
	}
	read(1)
	read(1)
	s.ForgetProgramme(3) // the version held: nothing to read
	read(1)
	st.p.Version = 4
	s.ForgetProgramme(4)
	read(2)
	read(2)
	s.ForgetProgramme(0)
	read(3)
	now = now.Add(programmeMaxAge)
	read(4)
	read(4)
}
