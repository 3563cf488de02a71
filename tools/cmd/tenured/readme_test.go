package main

import (
	"bytes"
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tenurehq/tenure/services/platform/auth"
	"github.com/tenurehq/tenure/services/platform/testenv"
	"github.com/tenurehq/tenure/tools/internal/cli"
)

// readmeGateway is the gateway address the README's commands use, that of
// `make run`; the test replaces it with its own tenured's.
const readmeGateway = "http://127.0.0.1:8080"

// tenurectlCommand starts the README's tenurectl lines.
const tenurectlCommand = "go run ./tools/cmd/tenurectl "

// onlineRetailFile is the UCI Online Retail file: the absolute path in
// TENURE_ONLINE_RETAIL_FILE, else the copy development and CI machines keep
// beside the repository (never inside it).
var onlineRetailFile = cmp.Or(os.Getenv("TENURE_ONLINE_RETAIL_FILE"),
	"../../../../shared/datasets/online-retail/online_retail.csv.gz")

// shBlocks returns the ```sh blocks of the README's section with the
// given heading, in order.
func shBlocks(t *testing.T, heading string) []string {
	t.Helper()
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", "## "+heading)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)\n```sh\n(.*?)\n```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// walkThroughBlocks returns the ```sh blocks of the README's walk-through.
func walkThroughBlocks(t *testing.T) []string {
	t.Helper()
	blocks := shBlocks(t, "A walk through the JSON API")
	if len(blocks) < 5 {
		t.Fatalf("the walk-through has %d sh blocks, want the JSON API, segments, loyalty, promotion and tenurectl ones", len(blocks))
	}
	return blocks
}

// runShell runs a README block with bash as pasted, against base instead of
// make run's gateway. curl fails on any answer but 2xx, and the block stops
// at the first failing command.
func runShell(t *testing.T, block, base string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The README reads make run's admin key from data/admin.key; the
	// test's tenured keeps it in TENURE_API_KEY_FILE.
	if f := os.Getenv("TENURE_API_KEY_FILE"); f != "" {
		block = strings.ReplaceAll(block, "data/admin.key", f)
	}
	script := "set -euo pipefail\n" +
		`curl() { command curl --fail-with-body --show-error --max-time 30 "$@"; }` + "\n" +
		strings.ReplaceAll(block, readmeGateway, base)
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("README block failed: %v\n--- block\n%s\n--- stdout\n%s\n--- stderr\n%s", err, block, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// runTenurectl runs one README tenurectl line in this process against base,
// with the data set's path for the README's file name.
func runTenurectl(t *testing.T, line, base string) string {
	t.Helper()
	if strings.ContainsAny(line, `'"$\`) {
		t.Fatalf("README line %q: quoting is not handled here; keep tenurectl lines plain", line)
	}
	args := strings.Fields(strings.TrimPrefix(line, tenurectlCommand))
	for i := range args {
		if i > 0 && args[i-1] == "--file" {
			args[i] = onlineRetailFile
		}
	}
	args = append(args, "--gateway", base)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if code := cli.Run(ctx, cli.Env{Stdout: &stdout, Stderr: &stderr}, args); code != 0 {
		t.Fatalf("%s: exit %d\n%s\n%s", line, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// wantAll fails the test for every want missing from out.
func wantAll(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", what, want, out)
		}
	}
}

// TestREADMEWalkThrough runs the README's walk-through as a user pastes it
// while `make run` is up: the curl blocks with bash and curl, each call
// answered 2xx, the grpcurl calls of "Talk gRPC to it" (done in Go), and
// the tenurectl lines on the real Online Retail file; and checks what the
// README says they show.
func TestREADMEWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole Tenure")
	}
	for _, tool := range []string{"bash", "curl", "sed", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "the README's commands need %s: %v", tool, err)
		}
	}
	blocks := walkThroughBlocks(t)
	dir := t.TempDir()
	p := startInProcess(t, dir)
	// The admin key tenured created, which the README's commands and
	// tenurectl send.
	adminKey := filepath.Join(dir, auth.LocalAdminKeyFile)
	key, err := os.ReadFile(adminKey)
	if err != nil {
		t.Fatalf("tenured created no admin key: %v", err)
	}
	t.Setenv("TENURE_API_KEY_FILE", adminKey)
	t.Setenv("TENURE_API_KEY", strings.TrimSpace(string(key)))
	if !strings.Contains(p.out.String(), "Admin API key: "+adminKey) {
		t.Errorf("tenured's table does not say where the admin key is:\n%s", p.out.String())
	}

	var curlBlocks int
	for _, block := range blocks {
		if strings.HasPrefix(block, tenurectlCommand) {
			continue
		}
		curlBlocks++
		out := runShell(t, block, p.base)
		switch curlBlocks {
		case 1: // create, record, read, export
			wantAll(t, "JSON API block", out, `"name":"customers/c-1001"`, `"fullName":"Ada Lovelace"`,
				`"orderCount":"1"`, `"refundCount":"1"`, `"orderRefunded"`)
		case 2: // segment, recompute, scores, report, members; feedback and survey invitations
			wantAll(t, "segments block", out, `"done":true`, `"state":"OPERATION_STATE_SUCCEEDED"`,
				`"name":"customers/c-1001/scores"`, `"lifecycleStage":"new"`, `"segments":["engaged"]`,
				`"lifecycleStages":[`, `"customerIds":["c-1001"]`, `"journey":"journeys/delivery-survey"`, "INVITATION_STATE_SENT")
		case 3: // loyalty: programme, member, ledger, redemption, expiry, report
			wantAll(t, "loyalty block", out, `"expiryMonths":"12"`, `"name":"members/c-1001"`, `"availablePoints":"12"`,
				`"type":"ENTRY_TYPE_EARN"`, `"type":"ENTRY_TYPE_REVERSE"`, `"availablePoints":"2"`)
		case 4: // promotion: campaign, promotion, evaluation, redemption, report
			// protojson may put a space after a comma or colon; the
			// figures are compared without it.
			out = strings.NewReplacer(", ", ",", ": ", ":").Replace(out)
			wantAll(t, "promotion block", out, `"state":"CAMPAIGN_STATE_ACTIVE"`, `"promotion":"campaigns/welcome/promotions/ten-off"`,
				`"total":{"currencyCode":"GBP","amountMinor":"2250"}`, `"name":"redemptions/2"`, `"redemptions":"1"`,
				`"discountCost":{"currencyCode":"GBP","amountMinor":"250"}`)
		}
	}
	if curlBlocks != 4 {
		t.Errorf("the walk-through has %d curl blocks; this test knows what 4 should show", curlBlocks)
	}
	// The gRPC section reads what the walk-through wrote.
	checkREADMEGrpc(t, p.out.String())

	t.Run("tenurectl", func(t *testing.T) {
		if _, err := os.Stat(onlineRetailFile); err != nil {
			testenv.Missing(t, "data set absent: %v", err)
		}
		var lines []string
		for _, block := range blocks {
			if strings.HasPrefix(block, tenurectlCommand) {
				lines = append(lines, strings.Split(block, "\n")...)
			}
		}
		outs := map[string]string{}
		for _, line := range lines {
			if !strings.HasPrefix(line, tenurectlCommand) {
				t.Fatalf("README tenurectl block line %q: want only %q lines", line, tenurectlCommand)
			}
			fields := strings.Fields(strings.TrimPrefix(line, tenurectlCommand))
			outs[fields[0]+" "+fields[1]] = runTenurectl(t, line, p.base)
		}
		wantAll(t, "import", outs["import online-retail"], "rows                   541,909", "customers              4,372",
			"countries set          4,358", "countries unknown      14 customers")
		wantAll(t, "recompute", outs["segments recompute"], "state             SUCCEEDED", "as of             2011-12-10T00:00:00Z")
		wantAll(t, "report", outs["segments report"], "RFM segments", "Value tiers")
		wantAll(t, "customers show", outs["customers show"], "Customer 12347", "country            IS")
		// A campaign with a holdout on the imported customers.
		checkRetailHoldout(t, p.base)
	})
}
