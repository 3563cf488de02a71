package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// testExpiringMembers: the members listed with points expiring within a
// window, page by page, are those whose accounts count expiring points in
// it, with the same points and the first expiry among those buckets.
func testExpiringMembers(t *testing.T, a, _ loyalty.Store) {
	_, asOf := expireLedger(t, a)
	for _, days := range []int{1, 10, 30, 400 - 35} {
		now := asOf.Add(-10 * 24 * time.Hour)
		window := time.Duration(days) * 24 * time.Hour
		var want []loyalty.ExpiringMember
		for _, id := range expireCustomers {
			acc := must(a.ReadAccount(ctx, id, time.Time{}))(t)
			if acc == nil || !acc.Member.Enrolled {
				continue
			}
			n := acc.Expiring(now, window)
			if n == 0 {
				continue
			}
			m := loyalty.ExpiringMember{MemberID: id, Points: n}
			for _, b := range acc.Buckets {
				if b.Remaining > 0 && !b.ExpiresAt.IsZero() && b.ExpiresAt.After(now) && !b.ExpiresAt.After(now.Add(window)) &&
					!b.AvailableAt.After(now) && (m.Earliest.IsZero() || b.ExpiresAt.Before(m.Earliest)) {
					m.Earliest = b.ExpiresAt
				}
			}
			want = append(want, m)
		}
		svc := service(a, &clock{t: now})
		var got []loyalty.ExpiringMember
		for token := ""; ; {
			page, next := must2(svc.ListExpiring(ctx, days, 2, token))(t)
			got = append(got, page...)
			if token = next; token == "" {
				break
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("within %d days: got %+v, want %+v", days, got, want)
		}
		if days == 30 && len(want) < 3 {
			t.Errorf("within 30 days: %d members; the ledger should give at least 3, over two pages", len(want))
		}
	}
}
