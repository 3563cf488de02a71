package retailimport

import (
	"errors"
	"testing"
	"time"
)

func london(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseTime(t *testing.T) {
	loc := london(t)
	tests := []struct {
		in   string
		want string // RFC 3339, UTC; "" for an error
	}{
		{"12/1/2010 8:26", "2010-12-01T08:26:00Z"},            // original format, winter (GMT)
		{"6/15/2011 10:05", "2011-06-15T09:05:00Z"},           // original format, summer (BST)
		{"12/9/2011 12:50:30", "2011-12-09T12:50:30Z"},        // with seconds
		{"2010-12-01 08:26:00", "2010-12-01T08:26:00Z"},       // ISO with a space
		{"2010-12-01T08:26:00", "2010-12-01T08:26:00Z"},       // ISO with a T
		{"2011-07-14T16:31:00", "2011-07-14T15:31:00Z"},       // ISO in summer
		{"2011-07-14 16:31", "2011-07-14T15:31:00Z"},          // ISO without seconds
		{"2011-07-14T16:31:00Z", "2011-07-14T16:31:00Z"},      // RFC 3339 keeps its zone
		{"2011-07-14T16:31:00+02:00", "2011-07-14T14:31:00Z"}, // RFC 3339 with an offset
		{" 2011-03-27T00:59:00 ", "2011-03-27T00:59:00Z"},     // last minute of GMT before the clocks change
		{"2011-03-27T02:00:00", "2011-03-27T01:00:00Z"},       // first hour of BST
		{"", ""},
		{"13/45/2011 8:00", ""},
		{"yesterday", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in, loc)
			if tt.want == "" {
				if !errors.Is(err, ErrBadTime) {
					t.Fatalf("ParseTime(%q) error = %v, want ErrBadTime", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTime(%q): %v", tt.in, err)
			}
			if got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
			if s := got.Format(time.RFC3339); s != tt.want {
				t.Errorf("ParseTime(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in    string
		want  Price
		minor int64
		err   bool
	}{
		{in: "2.55", want: 2550, minor: 255},
		{in: "0.29", want: 290, minor: 29}, // 0.29 is not exact as a float64
		{in: "1.1", want: 1100, minor: 110},
		{in: "15", want: 15000, minor: 1500},
		{in: "0.001", want: 1, minor: 0},
		{in: "3.395", want: 3395, minor: 340}, // half a penny rounds up
		{in: "3.394", want: 3394, minor: 339},
		{in: "2.5500", want: 2550, minor: 255},
		{in: ".5", want: 500, minor: 50},
		{in: "4.", want: 4000, minor: 400},
		{in: "-11062.06", want: -11062060, minor: -1106206},
		{in: "-0.005", want: -5, minor: -1}, // away from zero
		{in: " 8.50 ", want: 8500, minor: 850},
		{in: "0", want: 0, minor: 0},
		{in: "", err: true},
		{in: ".", err: true},
		{in: "1.2345", err: true},
		{in: "1,5", err: true},
		{in: "1e3", err: true},
		{in: "--1", err: true},
		{in: "99999999999999999999", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrice(tt.in)
			if tt.err {
				if !errors.Is(err, ErrBadPrice) {
					t.Fatalf("ParsePrice(%q) = %d, %v, want ErrBadPrice", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrice(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParsePrice(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if m := got.Minor(); m != tt.minor {
				t.Errorf("Minor() = %d, want %d", m, tt.minor)
			}
		})
	}
}

func TestLineTotalMinor(t *testing.T) {
	tests := []struct {
		qty   int64
		price string
		want  int64
	}{
		{6, "2.55", 1530},
		{3, "0.29", 87},     // float64 gives 0.8699999999999999
		{1, "0.001", 0},     // a tenth of a penny
		{5, "0.001", 1},     // half a penny rounds up
		{3, "3.395", 1019},  // 10.185 → 10.19: rounded once, per line
		{-2, "3.395", -679}, // 6.79, away from zero
		{80995, "2.08", 16846960},
	}
	for _, tt := range tests {
		p, err := ParsePrice(tt.price)
		if err != nil {
			t.Fatal(err)
		}
		if got := LineTotalMinor(tt.qty, p); got != tt.want {
			t.Errorf("LineTotalMinor(%d, %s) = %d, want %d", tt.qty, tt.price, got, tt.want)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{in: "6", want: 6},
		{in: "-12", want: -12},
		{in: "6.0", want: 6},
		{in: " 3 ", want: 3},
		{in: "6.5", err: true},
		{in: "", err: true},
		{in: "six", err: true},
	}
	for _, tt := range tests {
		got, err := ParseQuantity(tt.in)
		if tt.err != (err != nil) || got != tt.want {
			t.Errorf("ParseQuantity(%q) = %d, %v, want %d (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestNormalizeCustomerID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"17850", "17850"},
		{"17850.0", "17850"},
		{"17850.00", "17850"},
		{" 12346 ", "12346"},
		{"17850.5", "17850.5"},
		{"shop-42", "shop-42"},
		{"", ""},
		{"NA", ""},
	}
	for _, tt := range tests {
		if got := NormalizeCustomerID(tt.in); got != tt.want {
			t.Errorf("NormalizeCustomerID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
