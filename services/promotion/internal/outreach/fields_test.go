package outreach

import (
	"errors"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// fieldOf returns the field an error names, "" for nil.
func fieldOf(err error) string {
	if err == nil {
		return ""
	}
	var fe *fielderr.Error
	if !errors.As(err, &fe) {
		return "not a field error: " + err.Error()
	}
	return fe.Path
}
