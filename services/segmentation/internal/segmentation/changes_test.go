package segmentation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// changeStore is an AudienceChangeStore over a slice, in list order.
type changeStore struct {
	changes []AudienceChange
	ops     map[string]bool
}

func (s *changeStore) GetOperation(_ context.Context, id string) (Operation, error) {
	if !s.ops[id] {
		return Operation{}, fmt.Errorf("%w: %s", ErrOperationNotFound, id)
	}
	return Operation{ID: id}, nil
}

func (s *changeStore) ListAudienceChanges(_ context.Context, q AudienceChangeQuery) ([]AudienceChange, error) {
	var out []AudienceChange
	for _, c := range s.changes {
		if (q.Operation == "" || c.Operation == q.Operation) && c.Operation > q.AfterOperation &&
			(q.After == AudienceChange{} || c.position() > q.After.position()) && len(out) < q.Limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func TestListAudienceChanges(t *testing.T) {
	st := &changeStore{ops: map[string]bool{"1": true, "2": true}}
	for _, op := range []string{"1", "2"} {
		for _, id := range []string{"a", "b", "c"} {
			st.changes = append(st.changes, AudienceChange{Operation: op, Audience: "tiers/vip", CustomerID: id, Entered: true})
		}
	}
	a := AudienceChanges{Store: st}
	ctx := context.Background()
	var got []string
	token := ""
	for range 10 {
		page, next, err := a.List(ctx, AudienceChangeQuery{AfterOperation: "1"}, 2, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			got = append(got, c.Operation+c.CustomerID)
		}
		if token = next; token == "" {
			break
		}
	}
	if strings.Join(got, " ") != "2a 2b 2c" {
		t.Errorf("pages: got %q, want 2a 2b 2c", got)
	}
	_, first, err := a.List(ctx, AudienceChangeQuery{}, 1, "")
	if err != nil || first == "" {
		t.Fatalf("first page: next %q, %v", first, err)
	}

	tests := []struct {
		name  string
		q     AudienceChangeQuery
		token string
		want  error
		field string
	}{
		{"unknown operation", AudienceChangeQuery{Operation: "9"}, "", ErrOperationNotFound, ""},
		{"operation and after", AudienceChangeQuery{Operation: "1", AfterOperation: "0"}, "", nil, "after_operation"},
		{"bad audience", AudienceChangeQuery{Audiences: []string{"tiers/gold"}}, "", ErrInvalidAudience, "audiences[0]"},
		{"bad kind", AudienceChangeQuery{Kind: 7}, "", nil, "kind"},
		{"long after", AudienceChangeQuery{AfterOperation: strings.Repeat("9", 65)}, "", nil, "after_operation"},
		{"token of other filters", AudienceChangeQuery{Kind: ChangesLeft}, first, ErrInvalidPageToken, "page_token"},
		{"garbage token", AudienceChangeQuery{}, "!!", ErrInvalidPageToken, "page_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := a.List(ctx, tt.q, 0, tt.token)
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			var fe *fielderr.Error
			if tt.field != "" && (!errors.As(err, &fe) || fe.Path != tt.field) {
				t.Errorf("got %v, want a field error on %s", err, tt.field)
			}
		})
	}
}
