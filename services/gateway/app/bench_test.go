package app_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	profilev1 "github.com/tenurehq/tenure/gen/tenure/profile/v1"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// BenchmarkGetCustomer compares GetCustomer through the gateway (JSON over
// HTTP/1.1) with the same call made directly over gRPC, against one profile
// service on SQLite, in the same run. The ratio of the req/s metrics is the
// gateway's throughput cost. Both sides run 4×GOMAXPROCS concurrent
// clients.
func BenchmarkGetCustomer(b *testing.B) {
	const parallelism = 4
	s := startStack(b, stackOptions{})
	if code, body := s.do(b, http.MethodPost, "/v1/customers?customerId=bench-1",
		strings.NewReader(`{"fullName":"Bench Mark","email":"bench@example.com","country":"GB","tags":["a","b"]}`), nil); code != http.StatusOK {
		b.Fatalf("create = %d %s", code, body)
	}

	b.Run("gateway_json", func(b *testing.B) {
		// One keep-alive connection per client goroutine.
		tr := &http.Transport{MaxIdleConnsPerHost: parallelism * runtime.GOMAXPROCS(0)}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: withAdminKey{tr}}
		url := s.gateway + "/v1/customers/bench-1"
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})

	b.Run("grpc_direct", func(b *testing.B) {
		client := profilev1.NewProfileServiceClient(stacktest.Dial(b, s.profileAddr))
		req := &profilev1.GetCustomerRequest{Name: "customers/bench-1"}
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.GetCustomer(context.Background(), req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}

// BenchmarkAuthCost measures what authentication and authorization cost per
// call: the same GetCustomer through the gateway (JSON) and straight over
// gRPC, against a stack with authentication (an API key checked at the
// gateway and again at the service) and one without, in the same run. The
// ratio of the auth/noauth ns/op is the cost. Serial calls, so that the
// ratio is per call rather than per core.
func BenchmarkAuthCost(b *testing.B) {
	for _, mode := range []struct {
		name     string
		disabled bool
	}{{"noauth", true}, {"auth", false}} {
		s := startStack(b, stackOptions{authDisabled: mode.disabled})
		if code, body := s.do(b, http.MethodPost, "/v1/customers?customerId=bench-1",
			strings.NewReader(`{"fullName":"Bench Mark","email":"bench@example.com"}`), nil); code != http.StatusOK {
			b.Fatalf("create = %d %s", code, body)
		}
		b.Run("gateway_json/"+mode.name, func(b *testing.B) {
			client := &http.Client{Transport: withAdminKey{&http.Transport{}}}
			url := s.gateway + "/v1/customers/bench-1"
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
		b.Run("grpc/"+mode.name, func(b *testing.B) {
			client := profilev1.NewProfileServiceClient(stacktest.Dial(b, s.profileAddr))
			req := &profilev1.GetCustomerRequest{Name: "customers/bench-1"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.GetCustomer(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
