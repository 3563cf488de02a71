package grpcapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/resourcename"
)

// FuzzParseNames checks the API's resource name patterns on any input: a name is
// accepted exactly when it is the collection's prefix (and suffix) around
// a non-empty id without "/", the id is what the name was built from, and
// a rejected name is an invalid argument about the request field.
func FuzzParseNames(f *testing.F) {
	for _, n := range []string{
		"segments/engaged", "operations/0191d2b4-6f3a-7c1e-9a2b-3c4d5e6f7a8b", "customers/12347/scores",
		"segments/", "segments", "segments/a/b", "customers//scores", "customers/scores", "customers/a/scores/scores",
		"tiers/vip", "segments/\xff", "operations/x\x00",
	} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, name string) {
		for prefix, pattern := range map[string]resourcename.Pattern{"segments/": segmentNames, "operations/": operationNames} {
			id, err := pattern.ParseID("segment.name", name)
			rest, ok := strings.CutPrefix(name, prefix)
			checkName(t, name, id, err, ok && rest != "" && !strings.Contains(rest, "/"), rest, pattern.Format(id), "segment.name")
		}
		id, err := scoresNames.ParseID("name", name)
		rest, ok := strings.CutPrefix(name, "customers/")
		rest, ok2 := strings.CutSuffix(rest, "/scores")
		checkName(t, name, id, err, ok && ok2 && rest != "" && !strings.Contains(rest, "/"), rest, scoresNames.Format(id), "name")
	})
}

// checkName checks one parser's answer (id, err) for name: valid says
// whether it should be accepted with wantID, rebuilt the name formatted
// from id, field the field a rejection must name.
func checkName(t *testing.T, name, id string, err error, valid bool, wantID, rebuilt, field string) {
	t.Helper()
	switch {
	case err == nil && (!valid || id != wantID || rebuilt != name):
		t.Fatalf("%q parsed to id %q; want it rejected or %q", name, id, wantID)
	case err != nil && valid:
		t.Fatalf("%q: %v; want id %q", name, err, wantID)
	case err != nil:
		var fe *fielderr.Error
		if !errors.As(err, &fe) || fe.Field() != field || !errors.Is(err, fielderr.ErrInvalidArgument) {
			t.Fatalf("%q: got %#v, want an invalid argument about %s", name, err, field)
		}
	}
}
