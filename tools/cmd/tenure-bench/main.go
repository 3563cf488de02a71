// Command tenure-bench prepares and runs the segmentation benchmarks that
// need more than one process (see BENCHMARKS.md).
//
//	tenure-bench synth --customers 1000000 --seed 1 --out FILE
//	    writes the synthetic segmentation inputs (tools/internal/synth) as a
//	    tab-separated file that services/segmentation's recompute benchmark loads.
//
//	tenure-bench stack --customers 100000 --seed 1 [--engine sqlite|postgres] [--calls 5000]
//	    runs profile and segmentation in this process: loads profile with the
//	    customers' events, measures segmentation's catch-up from sequence 0 on a
//	    fresh database, runs a recompute and measures CheckMembership latency
//	    (1,000 pairs per call) over gRPC on 127.0.0.1.
//
//	tenure-bench check --addr HOST:PORT --audiences A,B [--customers N] [--seed S] [--calls N] [--label L]
//	    measures CheckMembership latency against a running segmentation
//	    server (stack starts it as a child process for each engine).
//
//	tenure-bench import --file FILE [--bin DIR]... [--engines sqlite,postgres] [--runs 3]
//	    times `tenurectl import online-retail` through the gateway of a fresh
//	    tenured per run (new data directory, new PostgreSQL databases), as a
//	    user runs it; several --bin directories are compared run by run.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/tenurehq/tenure/tools/internal/synth"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "synth":
		err = runSynth(os.Args[2:])
	case "stack":
		err = runStack(os.Args[2:])
	case "check":
		err = runCheck(os.Args[2:])
	case "import":
		err = runImport(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tenure-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: tenure-bench synth --customers N --seed S --out FILE
       tenure-bench stack --customers N --seed S [--engine sqlite|postgres] [--calls N]
       tenure-bench check --addr HOST:PORT --audiences A,B [--customers N] [--seed S] [--calls N] [--label L]
       tenure-bench import --file FILE [--bin DIR]... [--engines sqlite,postgres] [--runs N]`)
	os.Exit(2)
}

func runSynth(args []string) error {
	fs := flag.NewFlagSet("synth", flag.ExitOnError)
	n := fs.Int("customers", 1_000_000, "number of customers")
	seed := fs.Uint64("seed", 1, "generator seed")
	out := fs.String("out", "", "output file (required)")
	_ = fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("synth: --out is required")
	}
	start := time.Now()
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	g := synth.New(synth.Config{Customers: *n, Seed: *seed})
	if err := g.WriteInputs(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "tenure-bench: wrote %d customers (seed %d, as of %s) to %s in %s\n",
		*n, *seed, g.AsOf().Format(time.RFC3339), *out, time.Since(start).Round(time.Millisecond))
	return nil
}
