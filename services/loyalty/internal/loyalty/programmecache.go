package loyalty

import (
	"context"
	"sync"
	"time"
)

// programmeMaxAge bounds how long a replica uses the programme it read
// when no change notice reaches it (etcd unreachable, say).
const programmeMaxAge = time.Minute

// ProgrammeNotifier tells the other replicas that the programme changed;
// they call ForgetProgramme with the version. It reports its own failures:
// the new version is stored by then.
type ProgrammeNotifier interface {
	ProgrammeChanged(ctx context.Context, version int64)
}

// SetProgrammeNotifier sets who hears of programme updates made here.
func (s *Service) SetProgrammeNotifier(n ProgrammeNotifier) { s.notifier = n }

// ForgetProgramme is a notice that version is the current programme: the
// one in memory is read again if it is older. Version 0 forgets it
// whatever its version (a notice may have been missed).
func (s *Service) ForgetProgramme(version int64) { s.programme.forget(version) }

// programmeCache is the current programme as last read, and the newest
// version known to exist.
type programmeCache struct {
	mu    sync.Mutex
	p     Programme
	ok    bool
	read  time.Time
	known int64
}

// get returns the programme in memory if it is the newest known and
// young enough at now.
func (c *programmeCache) get(now time.Time) (Programme, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || c.p.Version < c.known || now.Sub(c.read) >= programmeMaxAge || now.Before(c.read) {
		return Programme{}, false
	}
	return c.p, true
}

// put keeps p, read at read, unless a newer version is kept already.
func (c *programmeCache) put(p Programme, read time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && c.p.Version > p.Version {
		return
	}
	c.p, c.ok, c.read = p, true, read
	c.known = max(c.known, p.Version)
}

func (c *programmeCache) forget(version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if version == 0 {
		c.ok = false
		return
	}
	c.known = max(c.known, version)
}
