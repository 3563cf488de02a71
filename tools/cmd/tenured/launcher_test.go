package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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

// TestRun starts the whole system, serves a request through the gateway
// and checks that cancelling stops it cleanly, gateway first and etcd last.
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

	var base string
	select {
	case addr := <-addrc:
		base = "http://" + addr
	case err := <-errc:
		t.Fatalf("run returned before ready: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("not ready after 60s\n%s", logs)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	requests := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/readyz", "", http.StatusOK},
		{http.MethodPost, "/v1/customers?customerId=c1", `{"fullName":"Ada"}`, http.StatusOK},
		{http.MethodGet, "/v1/customers/c1", "", http.StatusOK},
		{http.MethodGet, "/v1/segmentation/settings", "", http.StatusOK},
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
		if r.path == "/v1/customers/c1" {
			var got struct{ Customer struct{ FullName string } }
			if err := json.Unmarshal(b, &got); err != nil || got.Customer.FullName != "Ada" {
				t.Errorf("GET c1 = %s, want fullName Ada", b)
			}
		}
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

	out := logs.String()
	gw := strings.Index(out, "msg=stopped service=gateway")
	sg := strings.Index(out, "msg=stopped service=segmentation\n")
	pr := strings.Index(out, "msg=stopped service=profile\n")
	et := strings.Index(out, "msg=\"etcd stopped\"")
	if gw < 0 || sg < 0 || pr < 0 || et < 0 || gw > sg || sg > pr || pr > et {
		t.Errorf("stop order: gateway %d, segmentation %d, profile %d, etcd %d; want gateway < segmentation < profile < etcd\n%s", gw, sg, pr, et, out)
	}
	for _, f := range []string{"profile.db", "segmentation.db", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data: %v", err)
		}
	}
}
