// Command tenurectl is Tenure's operator command line.
//
//	tenurectl import online-retail --file PATH [--gateway URL | --grpc HOST:PORT]
//	    [--batch-size 1000] [--concurrency 4] [--output text|json]
//
// imports the UCI Online Retail CSV (plain or gzip) into the profile service:
// each invoice becomes one event, order_placed, or order_refunded for a
// cancellation ("C" invoice), with event id online-retail:<InvoiceNo>, so a
// second run records nothing new and reports every event as a duplicate.
// Rows without a CustomerID are skipped and counted. Each customer's
// country is then set from the Country column (as an ISO 3166-1 code, that
// of its latest invoice); names that are no single country ("Unspecified")
// are left empty and counted. Zone-less invoice
// times are UK local time. A normal invoice with a negative quantity is
// sent as it is and reported among the rejections, since the file does not
// say what it means. Without --grpc it sends to the JSON gateway at
// http://127.0.0.1:8080, where `make run` serves it. Progress is drawn on
// stderr when stderr is a terminal; the summary goes to stdout. The exit
// status is 0 when every batch was answered (rejected events included), 1
// when the import stopped early and 2 for a bad command line.
//
//	tenurectl import cdnow --file PATH [--gateway URL | --grpc HOST:PORT]
//
// imports the CDNOW purchase histories (the full cohort file, plain or
// gzip, or the 1/10th sample) as order_placed events in US dollars, one
// per purchase record (several records on one day stay separate orders),
// at noon UTC of their date, customer id cdnow-<file id>.
//
// The commands live in tools/internal/cli; this file only wires the process
// to them and should not grow.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tenurehq/tenure/tools/internal/cli"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.Env{
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Terminal: term.IsTerminal(int(os.Stderr.Fd())),
	}, os.Args[1:])
	stop()
	os.Exit(code)
}
