package chartcheck

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestChart renders the chart with the default values, the production-like
// values of charts/tenure/ci and a values entry for a further service, and
// checks every manifest.
func TestChart(t *testing.T) {
	deployed := deploymentsOf(t)
	for _, tc := range []struct {
		name string
		args []string
		// want: Deployments, and whether the in-chart etcd, HPAs and a ServiceMonitor are rendered.
		deployments           []string
		etcd, hpa, monitoring bool
	}{
		{name: "defaults", deployments: deployed, etcd: true},
		{name: "production", args: []string{"-f", chartDir + "/ci/production-values.yaml"},
			deployments: deployed, hpa: true, monitoring: true},
		{name: "a further service is one values entry", args: []string{"-f", "testdata/another-service.yaml"},
			deployments: append(slices.Clone(deployed), "t-tenure-example"), etcd: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := render(t, tc.args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			m := decode(t, out)
			t.Logf("rendered: %s", kinds(m))
			var got []string
			for _, d := range m.deployments {
				got = append(got, d.Name)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.deployments))
			if !slices.Equal(got, want) {
				t.Errorf("deployments = %v, want %v", got, want)
			}
			if (len(m.statefulSets) == 1) != tc.etcd || (len(m.hpas) > 0) != tc.hpa || (len(m.monitors) == 1) != tc.monitoring {
				t.Errorf("rendered %s; want etcd %v, HPAs %v, ServiceMonitor %v", kinds(m), tc.etcd, tc.hpa, tc.monitoring)
			}
			checkWorkloads(t, m)
			checkReferences(t, m)
			checkServiceEnv(t, m)
		})
	}
}

// deploymentsOf names the Deployment of every service of the repository
// (each services/<name>/cmd/<name>) and of the gateway, as the chart's
// default values must render them: a service missing from the chart fails.
func deploymentsOf(t *testing.T) []string {
	t.Helper()
	cmds, err := filepath.Glob("../../services/*/cmd/*")
	if err != nil || len(cmds) == 0 {
		t.Fatalf("no services found under ../../services (%v)", err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, "t-tenure-"+filepath.Base(c))
	}
	return names
}

// checkServiceEnv: each service listens, advertises and serves metrics on
// the ports its container declares, reads its DSN from a Secret, and asks
// readiness of its own health service name (not tenure.discovery, which
// etcd's outage turns NOT_SERVING on every replica).
func checkServiceEnv(t *testing.T, m manifests) {
	for _, d := range m.deployments {
		c := d.Spec.Template.Spec.Containers[0]
		prefix := "TENURE_" + strings.ToUpper(c.Name) + "_"
		e := env(c)
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		if a, ok := ports["admin"]; ok {
			if got := e[prefix+"ADMIN_LISTEN"].Value; got != ":"+itoa(a) {
				t.Errorf("%s: %sADMIN_LISTEN = %q, want :%d", d.Name, prefix, got, a)
			}
		}
		if c.Name == "gateway" {
			if got := e[prefix+"LISTEN"].Value; got != ":"+itoa(ports["http"]) {
				t.Errorf("%s: LISTEN = %q, want the http port %d", d.Name, got, ports["http"])
			}
			continue
		}
		grpcPort := ports["grpc"]
		if got := e[prefix+"LISTEN"].Value; got != ":"+itoa(grpcPort) {
			t.Errorf("%s: LISTEN = %q, want the grpc port %d", d.Name, got, grpcPort)
		}
		if got := e[prefix+"ADVERTISE"].Value; got != "$(POD_IP):"+itoa(grpcPort) {
			t.Errorf("%s: ADVERTISE = %q, want $(POD_IP):%d", d.Name, got, grpcPort)
		}
		if dsn := e[prefix+"DSN"]; dsn.ValueFrom == nil || dsn.ValueFrom.SecretKeyRef == nil || dsn.Value != "" {
			t.Errorf("%s: %sDSN = %+v, want it from a Secret", d.Name, prefix, dsn)
		}
		if e[prefix+"ETCD_ENDPOINTS"].Value == "" {
			t.Errorf("%s: no %sETCD_ENDPOINTS", d.Name, prefix)
		}
		if rp := c.ReadinessProbe; rp == nil || rp.GRPC == nil || rp.GRPC.Service == nil || *rp.GRPC.Service != c.Name {
			t.Errorf("%s: readiness probe %+v, want gRPC health of service %q", d.Name, rp, c.Name)
		}
		checkPodIPFirst(t, d.Name, c)
	}
}

// checkPodIPFirst: $(POD_IP) expands only when POD_IP is defined earlier.
func checkPodIPFirst(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == "POD_IP" {
			return
		}
		if strings.Contains(e.Value, "$(POD_IP)") {
			t.Errorf("%s: %s uses $(POD_IP) before it is defined", name, e.Name)
		}
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// TestValuesRejected: a misspelt key, a wrong type and contradictory
// settings fail at render, naming what to fix.
func TestValuesRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"misspelt service key", []string{"--set", "services.profile.replica=3"}, "replica"},
		{"misspelt top-level key", []string{"--set", "logLevle=debug"}, "logLevle"},
		{"unknown log level", []string{"--set", "logLevel=verbose"}, "logLevel"},
		{"service port out of range", []string{"--set", "services.profile.port=70000"}, "port"},
		{"service name not usable in TENURE_<NAME>_", []string{"--set", "services.Loyalty-v2.port=9103"}, "Loyalty-v2"},
		{"both etcds", []string{"--set", "etcd.endpoints[0]=http://etcd:2379"}, "not both"},
		{"no etcd", []string{"--set", "etcd.embedded.enabled=false"}, "etcd.endpoints"},
		{"etcd TLS without a Secret", []string{"--set", "etcd.embedded.enabled=false", "--set", "etcd.endpoints[0]=https://etcd:2379", "--set", "etcd.tls.enabled=true"}, "etcd.tls.secretName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template %v: error %v, want one mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}
