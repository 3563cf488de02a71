package engine

import (
	"context"
	"errors"

	"github.com/tenurehq/tenure/services/segmentation/internal/membership"
	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// changes sets set's audience changes: who entered and who left each
// recompute audience between the current snapshot, made first to hold the
// latest successful recompute's results, and base, the new one. With no
// successful recompute yet it sets none (the store records none for the
// first one either).
func (e *Engine) changes(ctx context.Context, base *membership.Snapshot, set *segmentation.ResultSet) error {
	latest, err := e.cfg.Store.LatestSucceeded(ctx)
	if errors.Is(err, segmentation.ErrNoRecompute) {
		return nil
	}
	if err != nil {
		return err
	}
	if e.cur.Load().op.ID != latest.ID { // another replica ran it
		if err := e.reload(ctx); err != nil {
			return err
		}
	}
	cur := e.cur.Load()
	diff := membership.Diff(cur.base, base)
	set.Changes = make([]segmentation.AudienceChange, len(diff))
	for i, c := range diff {
		set.Changes[i] = segmentation.AudienceChange{Audience: c.Audience, CustomerID: c.CustomerID, Entered: c.Entered}
	}
	set.ChangesSince = cur.op.ID
	return nil
}
