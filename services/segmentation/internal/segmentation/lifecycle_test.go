package segmentation

import (
	"testing"
	"time"
)

func TestLifecycleStages(t *testing.T) {
	ago := func(days int64, extra time.Duration) time.Time {
		return testAsOf.Add(-time.Duration(days)*day - extra)
	}
	almostDay := day - time.Nanosecond
	tests := []struct {
		name        string
		first, last time.Time
		count       int64
		want        Stage
	}{
		{"no orders", time.Time{}, time.Time{}, 0, StageProspect},
		{"first order today", ago(0, 0), ago(0, 0), 1, StageNew},
		{"first order 30 days ago", ago(30, 0), ago(30, 0), 1, StageNew},
		{"first order 30 days and 23:59 ago", ago(30, almostDay), ago(10, 0), 2, StageNew},
		{"first order 31 days ago, last today", ago(31, 0), ago(0, 0), 2, StageActive},
		{"first order 31 days ago", ago(31, 0), ago(31, 0), 1, StageActive},
		{"last order 90 days ago", ago(400, 0), ago(90, 0), 3, StageActive},
		{"last order 90 days and 23:59 ago", ago(400, 0), ago(90, almostDay), 3, StageActive},
		{"last order 91 days ago", ago(400, 0), ago(91, 0), 3, StageDormant},
		{"last order 180 days ago", ago(400, 0), ago(180, 0), 3, StageDormant},
		{"last order 181 days ago", ago(400, 0), ago(181, 0), 3, StageChurned},
		{"last order years ago", ago(4000, 0), ago(3000, 0), 3, StageChurned},
		{"orders after as_of", testAsOf.Add(time.Hour), testAsOf.Add(48 * time.Hour), 1, StageNew},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []Input{{CustomerID: "c", FirstOrder: tt.first, LastOrder: tt.last, OrderCount: tt.count}}
			res, err := Score(testAsOf, in, DefaultSettings())
			if err != nil {
				t.Fatal(err)
			}
			if got := res[0].Stage; got != tt.want {
				t.Errorf("stage = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRecencyDays(t *testing.T) {
	tests := []struct {
		last time.Time
		want int64
	}{
		{testAsOf, 0},
		{testAsOf.Add(-day + time.Nanosecond), 0},
		{testAsOf.Add(-day), 1},
		{testAsOf.Add(-90*day - 23*time.Hour), 90},
		{testAsOf.Add(time.Hour), 0}, // after as_of: counts as 0 days
		{testAsOf.In(time.FixedZone("UTC+9", 9*3600)).Add(-2 * day), 2},
	}
	for _, tt := range tests {
		t.Run(tt.last.String(), func(t *testing.T) {
			in := []Input{{CustomerID: "c", FirstOrder: tt.last.Add(-time.Hour), LastOrder: tt.last, OrderCount: 1}}
			res, err := Score(testAsOf, in, DefaultSettings())
			if err != nil {
				t.Fatal(err)
			}
			if got := res[0].RecencyDays; got != tt.want {
				t.Errorf("recency days = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLifecycleCustomThresholds(t *testing.T) {
	s := DefaultSettings()
	s.Lifecycle = Lifecycle{NewDays: 0, ActiveDays: 7, DormantDays: 7}
	tests := []struct {
		firstDays, lastDays int64
		want                Stage
	}{
		{0, 0, StageNew},
		{1, 1, StageActive},
		{10, 7, StageActive},
		{10, 8, StageChurned}, // dormant_days == active_days: no dormant stage
	}
	for _, tt := range tests {
		in := []Input{{CustomerID: "c", OrderCount: 1,
			FirstOrder: testAsOf.Add(-time.Duration(tt.firstDays) * day),
			LastOrder:  testAsOf.Add(-time.Duration(tt.lastDays) * day)}}
		res, err := Score(testAsOf, in, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := res[0].Stage; got != tt.want {
			t.Errorf("first %d, last %d days ago: stage %s, want %s", tt.firstDays, tt.lastDays, got, tt.want)
		}
	}
}
