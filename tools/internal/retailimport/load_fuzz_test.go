package retailimport

import (
	"bytes"
	"encoding/csv"
	"math/big"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzLoad loads any file. A loaded dataset accounts for every row, holds
// only complete invoices in order, and maps each to an event whose
// quantities and amounts are the exact ones (no overflow); written back as
// a CSV file and loaded again it gives the same invoices.
func FuzzLoad(f *testing.F) {
	small, err := os.ReadFile("testdata/small.csv")
	if err != nil {
		f.Fatal(err)
	}
	const header = "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID\n"
	for _, data := range [][]byte{
		small,
		[]byte(header + "1,A,2,2011-01-01 10:00,1.25,7\nC2,A,-1,2011-01-02 10:00,1.25,7.0\n"),
		[]byte("\ufeffInvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n\"1\",\" A,\"\"B\"\"\",1,12/1/2010 8:26,0.001,NA\n"),
		[]byte(header + "1,A,9223372036854775807,2011-01-01 10:00,2,7\n1,B,2,2011-01-01 10:00,1,7\n"),
		[]byte(header + "1,A,1,2011-01-01 10:00,1,7\n1,B,1\n2,\"unterminated\n"),
		[]byte(header),
	} {
		f.Add(data)
	}
	loc, err := time.LoadLocation(Zone)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := Load(bytes.NewReader(data), loc)
		if err != nil {
			return
		}
		checkDataset(t, ds)
		for _, inv := range ds.Invoices {
			checkEvent(t, inv)
			if y := inv.Time.Year(); y < 1 || y > 9999 {
				return // no RFC 3339 form to write it back in
			}
		}
		again, err := Load(bytes.NewReader(writeCSV(t, ds)), loc)
		if err != nil || !reflect.DeepEqual(again.Invoices, ds.Invoices) {
			t.Fatalf("written back and loaded again: %v\n got %s\nwant %s", err, describe(again), describe(ds))
		}
	})
}

// checkDataset checks that ds's counts add up and its invoices are
// complete and in order.
func checkDataset(t *testing.T, ds *Dataset) {
	t.Helper()
	lines := 0
	customers := map[string]bool{}
	for i, inv := range ds.Invoices {
		lines += len(inv.Lines)
		customers[inv.CustomerID] = true
		if len(inv.Lines) == 0 || inv.No == "" || inv.No != strings.TrimSpace(inv.No) || inv.CustomerID == "" ||
			inv.CustomerID != NormalizeCustomerID(inv.CustomerID) || inv.Time.Location() != time.UTC {
			t.Fatalf("invoice %+v is incomplete", *inv)
		}
		if i > 0 {
			prev := ds.Invoices[i-1]
			if c := prev.Time.Compare(inv.Time); c > 0 || c == 0 && prev.No >= inv.No {
				t.Fatalf("invoice %s (%v) comes after %s (%v)", inv.No, inv.Time, prev.No, prev.Time)
			}
		}
	}
	accounted := ds.RowsWithoutCustomer + ds.InvalidRows + lines
	if accounted > ds.Rows || ds.InvalidRows == 0 && accounted != ds.Rows {
		t.Fatalf("%d rows, but %d without customer, %d invalid and %d lines", ds.Rows, ds.RowsWithoutCustomer, ds.InvalidRows, lines)
	}
	if len(ds.Problems) != min(ds.InvalidRows, maxProblemSamples) || ds.InvalidInvoices > ds.InvalidRows || ds.Customers != len(customers) {
		t.Fatalf("%d problems for %d invalid rows, %d invalid invoices, %d customers (want %d)",
			len(ds.Problems), ds.InvalidRows, ds.InvalidInvoices, ds.Customers, len(customers))
	}
}

// checkEvent checks inv's event against amounts computed with big
// integers: each line's quantity (made positive for a cancellation) and
// unit price in pennies, and the total of the lines' rounded amounts.
func checkEvent(t *testing.T, inv *Invoice) {
	t.Helper()
	ev := inv.Event()
	sign := big.NewInt(1)
	lines, total := ev.GetOrderPlaced().GetLines(), ev.GetOrderPlaced().GetTotal()
	if inv.Cancelled() {
		sign = big.NewInt(-1)
		lines, total = ev.GetOrderRefunded().GetLines(), ev.GetOrderRefunded().GetAmount()
	}
	if ev.GetEventId() != EventIDPrefix+inv.No || ev.GetCustomerId() != inv.CustomerID || len(lines) != len(inv.Lines) {
		t.Fatalf("invoice %+v: event %v", *inv, ev)
	}
	sum := new(big.Int)
	for i, l := range inv.Lines {
		qty := new(big.Int).Mul(sign, big.NewInt(l.Quantity))
		if !is(lines[i].GetQuantity(), qty) || !is(lines[i].GetUnitPrice().GetAmountMinor(), roundedMinor(big.NewInt(int64(l.UnitPrice)))) {
			t.Fatalf("invoice %s line %d: %+v became %v", inv.No, i, l, lines[i])
		}
		sum.Add(sum, roundedMinor(new(big.Int).Mul(qty, big.NewInt(int64(l.UnitPrice)))))
	}
	if !is(total.GetAmountMinor(), sum) {
		t.Fatalf("invoice %s: total %d, want %s", inv.No, total.GetAmountMinor(), sum)
	}
}

// writeCSV writes ds's invoices as a CSV file Load reads.
func writeCSV(t *testing.T, ds *Dataset) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{{"InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"}}
	for _, inv := range ds.Invoices {
		for _, l := range inv.Lines {
			rows = append(rows, []string{inv.No, l.StockCode, strconv.FormatInt(l.Quantity, 10),
				inv.Time.Format(time.RFC3339Nano), formatPrice(l.UnitPrice), inv.CustomerID, inv.Country})
		}
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func describe(ds *Dataset) string {
	if ds == nil {
		return "nil"
	}
	out := make([]string, len(ds.Invoices))
	for i, inv := range ds.Invoices {
		out[i] = strconv.Quote(inv.No) + " " + strconv.Quote(inv.CustomerID) + " " + strconv.Quote(inv.Country) + " " + inv.Time.String()
		for _, l := range inv.Lines {
			out[i] += " " + strconv.Quote(l.StockCode) + "×" + strconv.FormatInt(l.Quantity, 10) + "@" + formatPrice(l.UnitPrice)
		}
	}
	return strings.Join(out, "; ")
}
