package membership

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkCheckShapes is the in-process counterpart of the gRPC
// CheckMembership latency benchmark (tenure-bench stack): 1,000 pairs per
// call in three shapes, against 1M customers and 40 audiences, with the
// customers of each call drawn afresh from the whole population (one in
// twenty unknown) so lookups miss the CPU caches as they do in production.
func BenchmarkCheckShapes(b *testing.B) {
	bld, ids := million(b)
	s, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	all := s.Audiences()
	for _, sh := range []struct{ customers, audiences int }{{1000, 1}, {100, 10}, {50, 20}} {
		b.Run(fmt.Sprintf("%dx%d", sh.customers, sh.audiences), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 8))
			type req struct{ customers, audiences []string }
			reqs := make([]req, 512)
			for i := range reqs {
				for range sh.customers {
					if rng.IntN(20) == 0 {
						reqs[i].customers = append(reqs[i].customers, fmt.Sprintf("unknown-%d", rng.IntN(1<<30)))
					} else {
						reqs[i].customers = append(reqs[i].customers, ids[rng.IntN(len(ids))])
					}
				}
				for _, j := range rng.Perm(len(all))[:sh.audiences] {
					reqs[i].audiences = append(reqs[i].audiences, all[j])
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := &reqs[i%len(reqs)]
				if _, err := s.Check(r.customers, r.audiences); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
