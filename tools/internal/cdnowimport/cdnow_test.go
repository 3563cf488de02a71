package cdnowimport

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	sample := " 00004 0001 19970101  2   29.33\n 00004 0001 19970101  1   11.77\n 00018 0003 19970102  1   0.00\n"
	master := " customer_id  date number_of_cds  dollar_value\n 00004 19970101  2   29.33\n 00004 19970101  1   11.77\n 00018 19970102  1   0.00\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(master))
	_ = zw.Close()
	for name, in := range map[string][]byte{"sample": []byte(sample), "master": []byte(master), "master gzip": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			ds, err := Load(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if ds.Customers != 2 || len(ds.Records) != 3 {
				t.Fatalf("got %d customers, %d records; want 2, 3", ds.Customers, len(ds.Records))
			}
			evs := ds.Events()
			// Two purchases on one day stay two orders, with distinct ids.
			if evs[0].GetEventId() != "cdnow:00004:19970101:0" || evs[1].GetEventId() != "cdnow:00004:19970101:1" {
				t.Errorf("event ids %s, %s", evs[0].GetEventId(), evs[1].GetEventId())
			}
			o := evs[0].GetOrderPlaced()
			if evs[0].GetCustomerId() != "cdnow-00004" || o.GetTotal().GetAmountMinor() != 2933 || o.GetTotal().GetCurrencyCode() != "USD" ||
				o.GetLines()[0].GetQuantity() != 2 || !evs[0].GetOccurredAt().AsTime().Equal(time.Date(1997, 1, 1, 12, 0, 0, 0, time.UTC)) {
				t.Errorf("first event %v", evs[0])
			}
			if evs[2].GetOrderPlaced().GetTotal().GetAmountMinor() != 0 {
				t.Errorf("zero-dollar record: %v", evs[2])
			}
		})
	}
	for _, bad := range []string{" 00004 1997-01-01 1 2.00\n", " 00004 19970101 1 2.001\n", " 00004 19970101 x 2.00\n", " 00004 19970101 1\n"} {
		if _, err := Load(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Load(%q): got %v, want an error naming line 1", bad, err)
		}
	}
}
