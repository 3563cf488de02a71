package synth

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

func TestDeterministic(t *testing.T) {
	sum := func() [32]byte {
		var buf bytes.Buffer
		if err := New(Config{Customers: 2000, Seed: 7}).WriteInputs(&buf); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(buf.Bytes())
	}
	if a, b := sum(), sum(); a != b {
		t.Fatal("two runs with the same config differ")
	}
}

func TestDistributions(t *testing.T) {
	g := New(Config{Customers: 20000, Seed: 1})
	var prospects, orders, refunds int
	for i := range g.Len() {
		c := g.Customer(i)
		f := c.Features()
		if len(c.Orders) == 0 {
			prospects++
			continue
		}
		orders += len(c.Orders)
		refunds += int(f.RefundCount)
		for _, o := range c.Orders {
			if o.Time.After(g.AsOf()) || o.Time.Before(g.AsOf().Add(-window)) {
				t.Fatalf("customer %s: order at %s outside the window", c.ID, o.Time)
			}
		}
		if f.NetMinor > f.GrossMinor || f.LastOrderTime.Before(f.FirstOrderTime) || f.LastActivityTime.Before(f.LastOrderTime) {
			t.Fatalf("customer %s: inconsistent features %+v", c.ID, f)
		}
	}
	share := float64(prospects) / float64(g.Len())
	mean := float64(orders) / float64(g.Len()-prospects)
	if share < 0.04 || share > 0.06 || mean < 2 || mean > 4 {
		t.Fatalf("prospects %.3f, mean orders %.2f: outside the documented ranges", share, mean)
	}
	t.Logf("prospects %.3f, mean orders %.2f, refunds %.3f of orders", share, mean, float64(refunds)/float64(orders))
}
