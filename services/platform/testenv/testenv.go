// Package testenv tells tests what environment they run in. In CI every
// resource a test needs (a PostgreSQL server, the real data sets) must be
// present, so a test that would skip elsewhere for want of one fails there.
package testenv

import (
	"os"
	"strconv"
	"testing"
)

// CI reports whether the tests run in continuous integration: the CI
// environment variable holds a true value as strconv.ParseBool reads it
// ("1", "t", "true", "TRUE", "True"…). Unset, false or unparsable values
// mean a developer's machine.
func CI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Missing reports that a resource the test needs is absent: outside CI the
// test is skipped with the message, in CI it fails with it.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+" (required when CI is set)", args...)
	}
	t.Skipf(format, args...)
}
