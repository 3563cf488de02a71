package segmentation

import (
	"slices"

	"github.com/tenurehq/tenure/services/platform/fielderr"
)

// Output-only fields are ignored in update masks (AIP-203): the JSON
// gateway derives a PATCH's mask from the fields in its body, so a
// resource read and sent back whole names them.
var (
	segmentOutputOnly  = []string{"name", "segment_id", "member_count", "create_time", "update_time", "etag"}
	settingsOutputOnly = []string{"version", "update_time"}
)

// updatablePaths returns paths without the output-only ones. A mask that
// named only output-only fields names nothing to change: that is an error,
// not "change everything" as an empty mask means.
func updatablePaths(paths, outputOnly []string) ([]string, error) {
	out := slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return slices.Contains(outputOnly, p) })
	if len(paths) > 0 && len(out) == 0 {
		return nil, &fielderr.Error{Path: "update_mask", Problem: "names only output-only fields",
			Fix: "name at least one field to change, or leave update_mask empty to replace every field"}
	}
	return out, nil
}
