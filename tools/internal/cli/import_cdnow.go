package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tenurehq/tenure/tools/internal/cdnowimport"
)

// importCDNOW runs `import cdnow`: it reads a CDNOW file (the full cohort
// or the sample), sends one order_placed event per purchase record and
// prints a summary.
func importCDNOW(ctx context.Context, env Env, args []string) error {
	o, err := parseImportFlagsFor(env, "cdnow", "a CDNOW purchase file, CDNOW_master.txt(.gz) or CDNOW_sample.txt (required)", args)
	if err != nil {
		return err
	}
	sender, target, closeSender, err := newSender(o)
	if err != nil {
		return err
	}
	defer closeSender()
	start := time.Now()
	f, err := os.Open(o.file)
	if err != nil {
		return err
	}
	ds, err := cdnowimport.Load(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", o.file, err)
	}
	sum := importSummary{File: o.file, Target: target, Rows: len(ds.Records), Orders: len(ds.Records), Customers: ds.Customers}
	res, sendErr := sendEvents(ctx, env, sender, ds.Events(), o)
	sum.addResult(res, time.Since(start))
	if err := printImportSummary(env.Stdout, o.output, sum); err != nil {
		return err
	}
	if sendErr != nil {
		return fmt.Errorf("import stopped: %w", sendErr)
	}
	return nil
}
