package segmentation_test

import (
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

func ExampleScore() {
	asOf := time.Date(2011, 12, 10, 0, 0, 0, 0, time.UTC)
	daysAgo := func(d int) time.Time { return asOf.AddDate(0, 0, -d) }
	customers := []segmentation.Input{
		{CustomerID: "ann", FirstOrder: daysAgo(400), LastOrder: daysAgo(2), OrderCount: 12, NetSpendMinor: 250_00},
		{CustomerID: "bob", FirstOrder: daysAgo(10), LastOrder: daysAgo(10), OrderCount: 1, NetSpendMinor: 20_00},
		{CustomerID: "cat", FirstOrder: daysAgo(700), LastOrder: daysAgo(300), OrderCount: 2, NetSpendMinor: 35_00},
		{CustomerID: "dan"}, // no orders yet
	}
	results, err := segmentation.Score(asOf, customers, segmentation.DefaultSettings())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s R%d F%d M%d %q %q %s\n", r.CustomerID, r.RScore, r.FScore, r.MScore, r.Segment, r.Tier, r.Stage)
	}
	// Output:
	// ann R4 F4 M4 "loyal" "vip" active
	// bob R2 F1 M1 "hibernating" "at_risk" new
	// cat R1 F2 M2 "lost" "at_risk" churned
	// dan R0 F0 M0 "" "" prospect
}
