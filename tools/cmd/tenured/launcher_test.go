package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// gatewayEnv names the environment variable that points TestRunning at an
// already running Tenure: the base URL of its gateway.
const gatewayEnv = "TENURE_TEST_GATEWAY"

// syncBuffer is a log sink safe for the launcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exercise is the end-to-end body every test here runs, whatever started
// the system: a user's requests through the gateway at base. It creates a
// customer of its own, so it runs against a system with data too.
func exercise(t *testing.T, base string) {
	t.Helper()
	id := fmt.Sprintf("c%d", time.Now().UnixNano())
	client := &http.Client{Timeout: 10 * time.Second}
	requests := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/readyz", "", http.StatusOK},
		{http.MethodPost, "/v1/customers?customerId=" + id, `{"fullName":"Ada"}`, http.StatusOK},
		{http.MethodGet, "/v1/customers/" + id, "", http.StatusOK},
		{http.MethodGet, "/v1/segmentation/settings", "", http.StatusOK},
		{http.MethodGet, "/v1/loyalty/programme", "", http.StatusOK},
	}
	for _, r := range requests {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		req, err := http.NewRequest(r.method, base+r.path, body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != r.want {
			t.Fatalf("%s %s = %d %s, want %d", r.method, r.path, resp.StatusCode, b, r.want)
		}
		if r.path == "/v1/customers/"+id {
			var got struct{ Customer struct{ FullName string } }
			if err := json.Unmarshal(b, &got); err != nil || got.Customer.FullName != "Ada" {
				t.Errorf("GET %s = %s, want fullName Ada", id, b)
			}
		}
	}
}

// checkStopped checks from tenured's text log that it stopped cleanly,
// gateway first and etcd last, and left its data in dir.
func checkStopped(t *testing.T, out, dir string) {
	t.Helper()
	gw := strings.Index(out, "msg=stopped service=gateway")
	ly := strings.Index(out, "msg=stopped service=loyalty\n")
	sg := strings.Index(out, "msg=stopped service=segmentation\n")
	pr := strings.Index(out, "msg=stopped service=profile\n")
	et := strings.Index(out, "msg=\"etcd stopped\"")
	if gw < 0 || ly < 0 || sg < 0 || pr < 0 || et < 0 || gw > ly || ly > sg || sg > pr || pr > et {
		t.Errorf("stop order: gateway %d, loyalty %d, segmentation %d, profile %d, etcd %d; want gateway < loyalty < segmentation < profile < etcd\n%s",
			gw, ly, sg, pr, et, out)
	}
	for _, f := range []string{"profile.db", "segmentation.db", "loyalty.db", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data: %v", err)
		}
	}
}

// TestRun starts the whole system in this process, serves a user's
// requests through the gateway and checks that cancelling stops it
// cleanly, gateway first and etcd last.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	cfg := config{
		dataDir:      dir,
		gatewayAddr:  "127.0.0.1:0",
		etcdAddr:     "127.0.0.1:0",
		serviceAddrs: map[string]string{},
		logLevel:     "info",
		logFormat:    "text",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, cfg, logs, func(addr string) { addrc <- addr }) }()

	select {
	case addr := <-addrc:
		exercise(t, "http://"+addr)
	case err := <-errc:
		t.Fatalf("run returned before ready: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("not ready after 60s\n%s", logs)
	}

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("run did not stop after cancel\n%s", logs)
	}
	checkStopped(t, logs.String(), dir)
}

// TestBinary runs the same body against tenured built from this tree, as
// a user starts it, and stops it with an interrupt.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tenured")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build tenured: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tenured")
	if out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "--data", data, "--gateway-addr", "127.0.0.1:0", "--etcd-addr", "127.0.0.1:0", "--log-format", "text")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	// Copy the log, and report the gateway's URL once tenured is ready.
	logs := &syncBuffer{}
	urlc := make(chan string, 1)
	copied := make(chan struct{})
	ready := regexp.MustCompile(`msg="tenured ready.*gateway=(http://\S+)`)
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case url := <-urlc:
		exercise(t, url)
	case <-copied:
		t.Fatalf("tenured exited before ready\n%s", logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("not ready after 60s\n%s", logs)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-copied
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tenured after interrupt: %v, want exit 0\n%s", err, logs)
	}
	checkStopped(t, logs.String(), data)
}

// TestRunning runs the same body against an already running Tenure when
// TENURE_TEST_GATEWAY names its gateway, e.g.
// TENURE_TEST_GATEWAY=http://127.0.0.1:8080 after `make run`.
func TestRunning(t *testing.T) {
	base := os.Getenv(gatewayEnv)
	if base == "" {
		t.Skipf("%s is not set", gatewayEnv)
	}
	exercise(t, strings.TrimSuffix(base, "/"))
}
