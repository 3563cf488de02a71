// Package chartcheck tests the Helm chart charts/tenure: it renders the
// chart with helm (built into ./bin by `make chart-check`) and decodes every
// manifest strictly into the Kubernetes API types, so that a misspelt or
// misplaced field fails here rather than at install. It is a module of its
// own, outside the workspace, so that k8s.io/api stays out of the services'
// dependencies.
package chartcheck

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tenurehq/tenure/services/platform/testenv"
)

const (
	chartDir    = "../../charts/tenure"
	kubeVersion = "1.31.0"
	namespace   = "tenure"
)

// helm returns the path of the helm binary make builds into ./bin.
func helm(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs("../../bin/helm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "no helm at %s: run make chart-check", path)
	}
	return path
}

// render runs helm template with the value files and --set arguments.
func render(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), append([]string{"template", "t", chartDir, "--namespace", namespace, "--kube-version", kubeVersion}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// the chart writes; strict decoding catches fields it does not know.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// manifests are the rendered objects, by kind.
type manifests struct {
	deployments     []appsv1.Deployment
	statefulSets    []appsv1.StatefulSet
	services        []corev1.Service
	serviceAccounts []corev1.ServiceAccount
	secrets         []corev1.Secret
	pdbs            []policyv1.PodDisruptionBudget
	hpas            []autoscalingv2.HorizontalPodAutoscaler
	netpols         []networkingv1.NetworkPolicy
	monitors        []serviceMonitor
}

// decode splits the rendered YAML into documents and decodes each strictly
// (unknown and duplicate fields fail) into its API type.
func decode(t *testing.T, rendered []byte) manifests {
	t.Helper()
	var m manifests
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(rendered)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("not a manifest: %v\n%s", err, doc)
		}
		var dst any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			dst = appendNew(&m.deployments)
		case "apps/v1 StatefulSet":
			dst = appendNew(&m.statefulSets)
		case "v1 Service":
			dst = appendNew(&m.services)
		case "v1 ServiceAccount":
			dst = appendNew(&m.serviceAccounts)
		case "v1 Secret":
			dst = appendNew(&m.secrets)
		case "policy/v1 PodDisruptionBudget":
			dst = appendNew(&m.pdbs)
		case "autoscaling/v2 HorizontalPodAutoscaler":
			dst = appendNew(&m.hpas)
		case "networking.k8s.io/v1 NetworkPolicy":
			dst = appendNew(&m.netpols)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			dst = appendNew(&m.monitors)
		default:
			t.Fatalf("unexpected kind %s %s: add it to the test", tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, dst); err != nil {
			t.Errorf("%s: %v\n%s", tm.Kind, err, doc)
		}
	}
	return m
}

// appendNew appends a zero T to s and returns a pointer to it.
func appendNew[T any](s *[]T) *T {
	*s = append(*s, *new(T))
	return &(*s)[len(*s)-1]
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// workload is a Deployment's or StatefulSet's pod template, by name.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        corev1.PodTemplateSpec
}

func (m manifests) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{"Deployment", d.Name, d.Spec.Selector, d.Spec.Template})
	}
	for _, s := range m.statefulSets {
		ws = append(ws, workload{"StatefulSet", s.Name, s.Spec.Selector, s.Spec.Template})
	}
	return ws
}

// selected returns the workloads whose pods sel selects.
func (m manifests) selected(t *testing.T, sel *metav1.LabelSelector) []workload {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	var out []workload
	for _, w := range m.workloads() {
		if s.Matches(labels.Set(w.pod.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// hasPort reports whether a container of pod exposes port (a name or number).
func hasPort(pod corev1.PodSpec, port intstr.IntOrString) bool {
	for _, c := range pod.Containers {
		for _, p := range c.Ports {
			if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
				return true
			}
		}
	}
	return false
}

// checkWorkloads: selectors match the pod labels, every container has
// probes on its own ports, resources and the restricted security context,
// and Kubernetes waits longer after SIGTERM than the drain takes.
func checkWorkloads(t *testing.T, m manifests) {
	for _, w := range m.workloads() {
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(w.pod.Labels)) {
			t.Errorf("%s %s: selector %v does not select its pod labels %v (%v)", w.kind, w.name, w.selector, w.pod.Labels, err)
		}
		spec := w.pod.Spec
		if psc := spec.SecurityContext; psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Errorf("%s %s: pod securityContext.runAsNonRoot is not true", w.kind, w.name)
		}
		for _, c := range spec.Containers {
			checkContainer(t, w, c)
		}
		if w.kind == "Deployment" {
			checkTermination(t, w)
		}
	}
}

func checkContainer(t *testing.T, w workload, c corev1.Container) {
	t.Helper()
	where := fmt.Sprintf("%s %s container %s", w.kind, w.name, c.Name)
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		switch {
		case p == nil:
			t.Errorf("%s: no %s probe", where, name)
		case p.GRPC != nil:
			if !hasPort(w.pod.Spec, intstr.FromInt32(p.GRPC.Port)) {
				t.Errorf("%s: %s probe on port %d, which no container exposes", where, name, p.GRPC.Port)
			}
		case p.HTTPGet != nil:
			if !hasPort(w.pod.Spec, p.HTTPGet.Port) {
				t.Errorf("%s: %s probe on port %s, which no container exposes", where, name, p.HTTPGet.Port.String())
			}
		default:
			t.Errorf("%s: %s probe is neither gRPC nor HTTP", where, name)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("%s: resources %v: want CPU and memory requests and a memory limit", where, c.Resources)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("%s: no securityContext", where)
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: runAsNonRoot is not true", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("%s: capabilities %v: want drop [ALL] and nothing added", where, sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccompProfile %v: want RuntimeDefault", where, sc.SeccompProfile)
	}
}

// checkTermination: terminationGracePeriodSeconds covers the preStop sleep
// and twice the shutdown timeout (drain, then the telemetry flush).
func checkTermination(t *testing.T, w workload) {
	t.Helper()
	c := w.pod.Spec.Containers[0]
	var drain time.Duration
	for _, e := range c.Env {
		if strings.HasSuffix(e.Name, "_SHUTDOWN_TIMEOUT") {
			d, err := time.ParseDuration(e.Value)
			if err != nil {
				t.Errorf("%s %s: %s=%q: %v", w.kind, w.name, e.Name, e.Value, err)
			}
			drain = d
		}
	}
	if drain <= 0 {
		t.Errorf("%s %s: no *_SHUTDOWN_TIMEOUT in the environment", w.kind, w.name)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatalf("%s %s: no preStop sleep", w.kind, w.name)
	}
	need := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds)*time.Second + 2*drain
	grace := w.pod.Spec.TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second <= need {
		t.Errorf("%s %s: terminationGracePeriodSeconds %v, want more than preStop sleep + 2 × drain = %s", w.kind, w.name, grace, need)
	}
}

// checkReferences: every Service, PodDisruptionBudget, NetworkPolicy and
// ServiceMonitor selects pods of a workload, every Service port targets a
// port those pods expose, and every HPA scales a rendered Deployment.
func checkReferences(t *testing.T, m manifests) {
	for _, s := range m.services {
		ws := m.selected(t, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if len(s.Spec.Selector) == 0 || len(ws) == 0 {
			t.Errorf("Service %s: selector %v selects no workload", s.Name, s.Spec.Selector)
		}
		for _, p := range s.Spec.Ports {
			for _, w := range ws {
				if !hasPort(w.pod.Spec, p.TargetPort) {
					t.Errorf("Service %s port %s: targetPort %s is not a port of %s %s", s.Name, p.Name, p.TargetPort.String(), w.kind, w.name)
				}
			}
		}
	}
	for _, p := range m.pdbs {
		if len(m.selected(t, p.Spec.Selector)) == 0 {
			t.Errorf("PodDisruptionBudget %s selects no workload", p.Name)
		}
	}
	for _, n := range m.netpols {
		if len(m.selected(t, &n.Spec.PodSelector)) == 0 {
			t.Errorf("NetworkPolicy %s selects no workload", n.Name)
		}
	}
	for _, sm := range m.monitors {
		if len(m.selected(t, &sm.Spec.Selector)) == 0 {
			t.Errorf("ServiceMonitor %s selects no workload", sm.Name)
		}
	}
	deployments := map[string]bool{}
	for _, d := range m.deployments {
		deployments[d.Name] = true
	}
	for _, h := range m.hpas {
		if ref := h.Spec.ScaleTargetRef; ref.Kind != "Deployment" || !deployments[ref.Name] {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not rendered", h.Name, ref.Kind, ref.Name)
		}
	}
}

// env returns a container's environment as a map of literal values.
func env(c corev1.Container) map[string]corev1.EnvVar {
	out := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		out[e.Name] = e
	}
	return out
}

func deployment(t *testing.T, m manifests, name string) appsv1.Deployment {
	t.Helper()
	for _, d := range m.deployments {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no Deployment %s", name)
	return appsv1.Deployment{}
}

func kinds(m manifests) string {
	return fmt.Sprintf("deployments %d, statefulsets %d, services %d, serviceaccounts %d, secrets %d, pdbs %d, hpas %d, networkpolicies %d, servicemonitors %d",
		len(m.deployments), len(m.statefulSets), len(m.services), len(m.serviceAccounts), len(m.secrets), len(m.pdbs), len(m.hpas), len(m.netpols), len(m.monitors))
}
