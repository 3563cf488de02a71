package segmentation

import "testing"

func BenchmarkScore1M(b *testing.B) {
	in := syntheticCustomers(1_000_000, testAsOf, 42)
	s := DefaultSettings()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Score(testAsOf, in, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScore1MFixedThresholds(b *testing.B) {
	in := syntheticCustomers(1_000_000, testAsOf, 42)
	s := DefaultSettings()
	s.Method = MethodFixedThresholds
	s.Thresholds = Thresholds{
		Recency:   [4]int64{14, 30, 90, 180},
		Frequency: [4]int64{2, 3, 5, 10},
		Monetary:  [4]int64{2000, 10000, 30000, 100000},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Score(testAsOf, in, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDistribute1M(b *testing.B) {
	res, err := Score(testAsOf, syntheticCustomers(1_000_000, testAsOf, 42), DefaultSettings())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Distribute(res)
	}
}
