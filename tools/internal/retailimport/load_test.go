package retailimport

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecompress(t *testing.T) {
	plain := []byte("InvoiceNo,StockCode\n1,A\n")
	tests := []struct {
		name string
		in   []byte
		want []byte
	}{
		{"plain", plain, plain},
		{"gzip", gzipped(t, plain), plain},
		{"empty", nil, nil},
		{"one byte", []byte{0x1f}, []byte{0x1f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Decompress(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err := r.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

// TestDecompressCloseEarly stops reading a large gzip input after a few
// bytes: Close must return (stopping the inflating goroutine) rather than
// wait for the rest.
func TestDecompressCloseEarly(t *testing.T) {
	plain := bytes.Repeat([]byte("536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom\n"), 200_000)
	r, err := Decompress(bytes.NewReader(gzipped(t, plain)))
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 10)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, plain[:10]) {
		t.Fatalf("first bytes %q, %v; want %q", head, err, plain[:10])
	}
	if err := r.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestLoadPlainAndGzip(t *testing.T) {
	plain, err := os.ReadFile("testdata/small.csv")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"plain": plain, "gzip": gzipped(t, plain)} {
		t.Run(name, func(t *testing.T) {
			ds, err := Load(bytes.NewReader(data), london(t))
			if err != nil {
				t.Fatal(err)
			}
			checkSmall(t, ds)
		})
	}
}

// checkSmall checks the dataset read from testdata/small.csv.
func checkSmall(t *testing.T, ds *Dataset) {
	t.Helper()
	if ds.Rows != 11 {
		t.Errorf("Rows = %d, want 11", ds.Rows)
	}
	if ds.RowsWithoutCustomer != 2 { // an empty CustomerID and "NA"
		t.Errorf("RowsWithoutCustomer = %d, want 2", ds.RowsWithoutCustomer)
	}
	if ds.InvalidRows != 1 || ds.InvalidInvoices != 1 {
		t.Errorf("InvalidRows, InvalidInvoices = %d, %d, want 1, 1", ds.InvalidRows, ds.InvalidInvoices)
	}
	if len(ds.Problems) != 1 || ds.Problems[0].Line != 10 || ds.Problems[0].Invoice != "900006" || !errors.Is(ds.Problems[0].Err, ErrBadPrice) {
		t.Errorf("Problems = %v, want line 10 of invoice 900006, a bad price", ds.Problems)
	}
	if ds.Customers != 3 {
		t.Errorf("Customers = %d, want 3", ds.Customers)
	}
	var got []string
	for _, inv := range ds.Invoices {
		got = append(got, inv.No+"@"+inv.Time.Format(time.RFC3339))
	}
	want := []string{ // time order; 900006 is left out whole
		"900005@2010-12-01T08:26:00Z",
		"900001@2011-01-05T09:07:00Z",
		"900002@2011-07-14T15:30:00Z",
		"C900004@2011-07-20T09:00:00Z",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("invoices = %v, want %v", got, want)
	}
}

func TestEvents(t *testing.T) {
	f, err := os.Open("testdata/small.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := Load(f, london(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		// 6 × 3.395 = 20.37 exactly.
		`{"eventId":"online-retail:900005","customerId":"90003","occurredAt":"2010-12-01T08:26:00Z",
		  "orderPlaced":{"orderId":"900005","channel":"online","total":{"currencyCode":"GBP","amountMinor":"2037"},
		  "lines":[{"sku":"TST06","quantity":"6","unitPrice":{"currencyCode":"GBP","amountMinor":"340"}}]}}`,
		// Rows apart in the file, one order; "90001.0" is customer 90001;
		// 4 × 1.25 + 3 × 0.85 + 1 × 0.001 = 7.55 (the 0.1p line rounds to 0).
		`{"eventId":"online-retail:900001","customerId":"90001","occurredAt":"2011-01-05T09:07:00Z",
		  "orderPlaced":{"orderId":"900001","channel":"online","total":{"currencyCode":"GBP","amountMinor":"755"},
		  "lines":[{"sku":"TST01","quantity":"4","unitPrice":{"currencyCode":"GBP","amountMinor":"125"}},
		           {"sku":"TST02","quantity":"3","unitPrice":{"currencyCode":"GBP","amountMinor":"85"}},
		           {"sku":"TST04","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"0"}}]}}`,
		`{"eventId":"online-retail:900002","customerId":"90002","occurredAt":"2011-07-14T15:30:00Z",
		  "orderPlaced":{"orderId":"900002","channel":"online","total":{"currencyCode":"GBP","amountMinor":"2100"},
		  "lines":[{"sku":"TST03","quantity":"10","unitPrice":{"currencyCode":"GBP","amountMinor":"210"}}]}}`,
		// A cancellation: positive quantities, the amount refunded, no order id.
		`{"eventId":"online-retail:C900004","customerId":"90002","occurredAt":"2011-07-20T09:00:00Z",
		  "orderRefunded":{"amount":{"currencyCode":"GBP","amountMinor":"1920"},
		  "lines":[{"sku":"TST03","quantity":"2","unitPrice":{"currencyCode":"GBP","amountMinor":"210"}},
		           {"sku":"TST05","quantity":"1","unitPrice":{"currencyCode":"GBP","amountMinor":"1500"}}]}}`,
	}
	events := ds.Events()
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d", len(events), len(want))
	}
	for i, w := range want {
		wantEv := &profilev1.Event{}
		if err := protojson.Unmarshal([]byte(w), wantEv); err != nil {
			t.Fatalf("want[%d]: %v", i, err)
		}
		if !proto.Equal(events[i], wantEv) {
			t.Errorf("event %d:\n got %v\nwant %v", i, events[i], wantEv)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEmptyFile},
		{"no customer column", "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice\n", ErrMissingColumn},
		{"no price column", "InvoiceNo,StockCode,Quantity,InvoiceDate,CustomerID\n", ErrMissingColumn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tt.in), london(t))
			if !errors.Is(err, tt.want) {
				t.Errorf("Load error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestLoadRowProblems(t *testing.T) {
	const header = "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID\n"
	tests := []struct {
		name            string
		rows            string
		invoices        int
		invalidInvoices int
		wantErr         error
	}{
		{"other customer on the same invoice", "1,A,1,2011-01-01 10:00,1,7\n1,B,1,2011-01-01 10:00,1,8\n2,A,1,2011-01-01 10:00,1,7\n", 1, 1, nil},
		{"bad date", "1,A,1,2011-13-01 10:00,1,7\n2,A,1,2011-01-01 10:00,1,7\n", 1, 1, ErrBadTime},
		{"bad quantity", "1,A,x,2011-01-01 10:00,1,7\n", 0, 1, ErrBadQuantity},
		{"short row", "1,A,1\n2,A,1,2011-01-01 10:00,1,7\n", 1, 0, nil},
		{"bad row first, good row later", "1,A,1,2011-01-01 10:00,?,7\n1,B,1,2011-01-01 10:00,1,7\n", 0, 1, ErrBadPrice},
		{"quantity over the bound", "1,A,1000000001,2011-01-01 10:00,1,7\n", 0, 1, ErrBadQuantity},
		{"line total over the bound", "1,A,1000000000,2011-01-01 10:00,9999999999,7\n", 0, 1, ErrBadAmount},
		{"invoice total over the bound", "1,A,1000000000,2011-01-01 10:00,600000,7\n1,B,1000000000,2011-01-01 10:00,600000,7\n", 0, 1, ErrBadAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Load(strings.NewReader(header+tt.rows), london(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(ds.Invoices) != tt.invoices || ds.InvalidInvoices != tt.invalidInvoices || ds.InvalidRows != 1 {
				t.Errorf("invoices %d, invalid invoices %d, invalid rows %d; want %d, %d, 1",
					len(ds.Invoices), ds.InvalidInvoices, ds.InvalidRows, tt.invoices, tt.invalidInvoices)
			}
			if tt.wantErr != nil && (len(ds.Problems) != 1 || !errors.Is(ds.Problems[0].Err, tt.wantErr)) {
				t.Errorf("Problems = %v, want one %v", ds.Problems, tt.wantErr)
			}
		})
	}
}

func TestCustomerCountries(t *testing.T) {
	const file = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
1,A,MUG,1,2011-01-01T10:00:00Z,1.00,1,United Kingdom
2,A,MUG,1,2011-01-02T10:00:00Z,1.00,2,EIRE
3,A,MUG,1,2011-01-03T10:00:00Z,1.00,3,Unspecified
4,A,MUG,1,2011-01-04T10:00:00Z,1.00,4,Channel Islands
5,A,MUG,1,2011-02-05T10:00:00Z,1.00,5,Cyprus
6,A,MUG,1,2011-01-05T10:00:00Z,1.00,5,Austria
7,A,MUG,1,2011-01-06T10:00:00Z,1.00,6
8,A,MUG,1,2011-01-07T10:00:00Z,1.00,7, rsa 
`
	ds, err := Load(strings.NewReader(file), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Invoices) != 8 || ds.InvalidRows != 0 {
		t.Fatalf("%d invoices, %d invalid rows %v; want 8 and none (a row may end before Country)", len(ds.Invoices), ds.InvalidRows, ds.Problems)
	}
	codes, unknown := ds.CustomerCountries()
	wantCodes := map[string]string{"1": "GB", "2": "IE", "5": "CY", "7": "ZA"} // 5: its latest invoice's country
	if !maps.Equal(codes, wantCodes) {
		t.Errorf("codes = %v, want %v", codes, wantCodes)
	}
	if want := map[string]int{"Unspecified": 1, "Channel Islands": 1}; !maps.Equal(unknown, want) {
		t.Errorf("unknown = %v, want %v", unknown, want)
	}

	ds, err = Load(strings.NewReader("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,A,1,2011-01-01T10:00:00Z,1.00,1\n"), time.UTC)
	if err != nil {
		t.Fatalf("a file without Country: %v", err)
	}
	if codes, unknown := ds.CustomerCountries(); len(codes) != 0 || len(unknown) != 0 || len(ds.Invoices) != 1 {
		t.Errorf("a file without Country: codes %v, unknown %v, %d invoices; want none, none, 1", codes, unknown, len(ds.Invoices))
	}
}

// TestCountryCodesAreISO checks the table's codes have the form the profile
// service takes (two upper-case letters) and that every Country name of the
// real data set either maps or is one of those naming no single country.
func TestCountryCodesAreISO(t *testing.T) {
	for name, code := range countryCodes {
		if len(code) != 2 || strings.ToUpper(code) != code || name != strings.ToLower(name) {
			t.Errorf("%q → %q: want a lower-case name and an upper-case alpha-2 code", name, code)
		}
	}
	for _, name := range []string{"Australia", "Austria", "Bahrain", "Belgium", "Brazil", "Canada", "Cyprus",
		"Czech Republic", "Denmark", "EIRE", "Finland", "France", "Germany", "Greece", "Hong Kong", "Iceland",
		"Israel", "Italy", "Japan", "Lebanon", "Lithuania", "Malta", "Netherlands", "Norway", "Poland", "Portugal",
		"RSA", "Saudi Arabia", "Singapore", "Spain", "Sweden", "Switzerland", "USA", "United Arab Emirates",
		"United Kingdom"} {
		if _, ok := CountryCode(name); !ok {
			t.Errorf("CountryCode(%q): no code", name)
		}
	}
	for _, name := range []string{"Channel Islands", "European Community", "Unspecified", ""} {
		if code, ok := CountryCode(name); ok {
			t.Errorf("CountryCode(%q) = %q, want none: it names no single country", name, code)
		}
	}
}
