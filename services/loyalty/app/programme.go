package app

import (
	"context"
	"strconv"

	"github.com/tenurehq/tenure/services/platform/backoff"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// programmeKey is the etcd key holding the current programme version, so
// that every replica reads a new programme at once after an update.
const programmeKey = "tenure/loyalty/programme-version"

// programmeNotifier writes the current programme version to etcd.
type programmeNotifier struct{ a *App }

// ProgrammeChanged implements loyalty.ProgrammeNotifier. A failure is
// logged: the other replicas read the programme again within a minute.
func (n programmeNotifier) ProgrammeChanged(ctx context.Context, version int64) {
	if _, err := n.a.etcd.Put(context.WithoutCancel(ctx), programmeKey, strconv.FormatInt(version, 10)); err != nil {
		n.a.logger.Warn("loyalty: announce the programme version", "version", version, "error", err)
	}
}

// watchProgramme tells the service of every programme version another
// replica announces, until ctx is done. Each time the watch (re)starts the
// programme in memory is forgotten, in case a notice was missed.
func (a *App) watchProgramme(ctx context.Context) {
	var b backoff.Backoff
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := a.etcd.Watch(wctx, programmeKey)
		a.svc.ForgetProgramme(0)
		for wr := range wch {
			for _, ev := range wr.Events {
				if v, err := strconv.ParseInt(string(ev.Kv.Value), 10, 64); err == nil && v > 0 {
					a.svc.ForgetProgramme(v)
					b.Reset()
				}
			}
		}
		cancel()
		_ = b.Wait(ctx)
	}
}
