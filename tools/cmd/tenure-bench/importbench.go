package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tenurehq/tenure/services/platform/backoff"
)

// runImport measures `tenurectl import online-retail` as a user runs it:
// for each run, engine and build, a fresh tenured (new data directory; on
// PostgreSQL new databases for both services), then the import command's
// wall time through the gateway. Builds are directories holding a built
// tenured and tenurectl; giving several compares them run by run, in
// alternation, so that a busy machine slows each about as much.
func runImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	var bins []string
	fs.Func("bin", "`DIR` holding built tenured and tenurectl binaries; repeat to compare builds (default ./bin)", func(s string) error {
		bins = append(bins, s)
		return nil
	})
	file := fs.String("file", "", "the Online Retail CSV, plain or gzip (required)")
	engines := fs.String("engines", "sqlite,postgres", "comma-separated database engines of the services: sqlite, postgres")
	runs := fs.Int("runs", 3, "imports per build and engine")
	admin := fs.String("postgres", envOr("TENURE_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "admin DSN for the postgres engine")
	_ = fs.Parse(args)
	if *file == "" {
		return errors.New("import: --file is required")
	}
	if len(bins) == 0 {
		bins = []string{"bin"}
	}
	ctx := context.Background()
	type key struct{ bin, engine string }
	walls := map[key][]time.Duration{}
	for run := 1; run <= *runs; run++ {
		for _, engine := range strings.Split(*engines, ",") {
			for _, bin := range bins {
				wall, events, err := importOnce(ctx, bin, engine, *admin, *file)
				if err != nil {
					return fmt.Errorf("%s on %s: %w", bin, engine, err)
				}
				fmt.Printf("run %d  %-8s  %-24s  %6.2f s  %6.0f events/s\n", run, engine, bin, wall.Seconds(), float64(events)/wall.Seconds())
				k := key{bin, engine}
				walls[k] = append(walls[k], wall)
			}
		}
	}
	fmt.Println("\nimport wall time (median, min–max):")
	for _, engine := range strings.Split(*engines, ",") {
		for _, bin := range bins {
			w := walls[key{bin, engine}]
			slices.Sort(w)
			fmt.Printf("  %-8s  %-24s  %.2f s  (%.2f–%.2f s, %d runs)\n", engine, bin, w[len(w)/2].Seconds(), w[0].Seconds(), w[len(w)-1].Seconds(), len(w))
		}
	}
	return nil
}

// importOnce starts a fresh tenured from bin on engine, runs the import
// and returns its wall time and the number of events accepted.
func importOnce(ctx context.Context, bin, engine, admin, file string) (time.Duration, int, error) {
	dir, err := os.MkdirTemp("", "tenure-bench-import-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	env := os.Environ()
	if engine != "sqlite" {
		dsns, drop, err := databases(ctx, dir, engine, admin)
		if err != nil {
			return 0, 0, err
		}
		defer drop()
		env = append(env, "TENURE_PROFILE_DSN="+dsns["profile"], "TENURE_SEGMENTATION_DSN="+dsns["segmentation"])
	}
	gwAddr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	etcdAddr, err := freeAddr()
	if err != nil {
		return 0, 0, err
	}
	var logs bytes.Buffer
	d := exec.Command(filepath.Join(bin, "tenured"), "--data", filepath.Join(dir, "data"),
		"--gateway-addr", gwAddr, "--etcd-addr", etcdAddr, "--log-level", "warn")
	d.Env, d.Stdout, d.Stderr = env, &logs, &logs
	if err := d.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = d.Process.Signal(syscall.SIGINT)
		_ = d.Wait()
	}()
	base := "http://" + gwAddr
	if err := waitHTTP(ctx, base+"/readyz", time.Minute); err != nil {
		return 0, 0, fmt.Errorf("tenured not ready: %w; its log:\n%s", err, logs.String())
	}

	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, filepath.Join(bin, "tenurectl"), "import", "online-retail",
		"--file", file, "--gateway", base, "--output", "json")
	c.Stdout, c.Stderr = &out, &errOut
	start := time.Now()
	err = c.Run()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("tenurectl: %w: %s", err, errOut.String())
	}
	var sum struct{ Invoices, Accepted int }
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		return 0, 0, fmt.Errorf("tenurectl summary: %w", err)
	}
	if sum.Accepted != sum.Invoices || sum.Accepted == 0 {
		return 0, 0, fmt.Errorf("accepted %d events of %d invoices", sum.Accepted, sum.Invoices)
	}
	return wall, sum.Accepted, nil
}

// freeAddr returns a 127.0.0.1 address with a port free at the time.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url every 50 ms until it answers 200 or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if err := backoff.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
