package cli

import (
	"os"
	"testing"

	"github.com/tenurehq/tenure/services/platform/stack/stacktest"
)

// TestMain makes tenurectl send the test stacks' admin key, as it sends a
// local tenured's (auth.ClientKey reads TENURE_API_KEY first).
func TestMain(m *testing.M) {
	if err := os.Setenv("TENURE_API_KEY", stacktest.AdminKey()); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
