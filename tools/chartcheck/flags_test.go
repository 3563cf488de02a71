package chartcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/testenv"
)

// staticDir is where make static-build puts the image's binaries.
const staticDir = "../../.build/static"

// TestEnvNamesAreFlags: every TENURE_* variable the chart sets, with the
// default and the production-like values, is one the binary it starts
// reads, as its -h lists them; a misspelt or retired variable would be
// silently ignored.
func TestEnvNamesAreFlags(t *testing.T) {
	for _, values := range []string{chartDir + "/values.yaml", chartDir + "/ci/production-values.yaml"} {
		out, err := render(t, "-f", values)
		if err != nil {
			t.Fatalf("helm template: %v", err)
		}
		m := decode(t, out)
		for _, d := range m.deployments {
			c := d.Spec.Template.Spec.Containers[0]
			known := envNames(t, filepath.Base(c.Command[0]))
			for _, e := range c.Env {
				if strings.HasPrefix(e.Name, "TENURE_") && !known[e.Name] {
					t.Errorf("%s (%s): %s is not a variable %s reads", d.Name, values, e.Name, c.Command[0])
				}
			}
		}
	}
}

// envNames runs the built binary with -h and returns the variables its
// flags name ("(env TENURE_…)").
func envNames(t *testing.T, binary string) map[string]bool {
	t.Helper()
	path := filepath.Join(staticDir, binary)
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, "no %s: run make static-build (make chart-check does)", path)
	}
	var help bytes.Buffer
	cmd := exec.Command(path, "-h")
	cmd.Stdout, cmd.Stderr = &help, &help
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -h: %v\n%s", path, err, help.String())
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(env (TENURE_[A-Z0-9_]+)\)`).FindAllStringSubmatch(help.String(), -1) {
		names[m[1]] = true
	}
	if len(names) == 0 {
		t.Fatalf("%s -h names no TENURE_* variable:\n%s", path, help.String())
	}
	return names
}
