package store

import (
	"cmp"
	"container/list"
	"slices"
	"sync"
	"time"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// cachedAccounts bounds the accounts the event-log consumer keeps between
// pages: a few KiB each with their orders, hundreds of MiB at most.
const cachedAccounts = 100_000

// accountCache holds the accounts the event-log consumer saved, as they
// were committed, so that a later page's transaction does not read their
// buckets and orders again: catching up, a page reads and writes the
// accounts of thousands of members, most of which recent pages wrote.
//
// An account is only used in a transaction that holds its member row and
// finds that row as the cache has it. Every change to an account's buckets
// writes a ledger entry, which changes the member row (its entry number),
// and so does every other change of the member; orders and action counts
// are written by the consumer alone. The cache is also tied to the cursor:
// it holds accounts as of the page that ended at cursor, and is emptied
// when a page starts from another cursor (another replica applied pages
// meanwhile).
type accountCache struct {
	mu     sync.Mutex
	cursor int64
	lru    *list.List // of *cacheEntry, the most recently saved first
	byID   map[string]*list.Element
}

type cacheEntry struct {
	a *loyalty.Account
	// from is the window the account was loaded for: it holds every
	// bucket a load for a window from then on would read.
	from time.Time
	// complete says every order and action count of the member is in a.
	complete bool
}

func newAccountCache() *accountCache {
	return &accountCache{lru: list.New(), byID: map[string]*list.Element{}}
}

// start begins a page's transaction at cursor: the cache is emptied
// unless it is as of cursor.
func (c *accountCache) start(cursor int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cursor != cursor {
		c.lru.Init()
		clear(c.byID)
		c.cursor = cursor
	}
}

// take removes m's account from the cache and returns it if the cache
// has it as m's stored row is and with every bucket a load for the window
// from would read, trimmed to those buckets; nil otherwise. The
// transaction owns the account from then on: one that fails drops it.
func (c *accountCache) take(m loyalty.Member, from time.Time) (*loyalty.Account, bool) {
	c.mu.Lock()
	el, ok := c.byID[m.ID]
	if ok {
		c.lru.Remove(el)
		delete(c.byID, m.ID)
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if from.Before(e.from) || !slices.Equal(memberArgs(e.a.Member), memberArgs(m)) {
		return nil, false
	}
	e.a.Buckets = loaded(e.a.Buckets, from)
	return e.a, e.complete
}

// loaded returns the buckets of bs that a load for the window from reads
// (see loadAccount), in its order.
func loaded(bs []*loyalty.Bucket, from time.Time) []*loyalty.Bucket {
	out := bs[:0]
	for _, b := range bs {
		if b.Remaining > 0 || (b.Qualifying && b.EarnedAt.After(from)) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(x, y *loyalty.Bucket) int { return cmp.Compare(x.ID, y.ID) })
	return out
}

// put keeps the accounts of a page's committed transaction, which
// started at cursor from and moved it to to, and forgets the members it
// re-keyed or deleted. When another page ended in between, it keeps
// nothing: the cache then belongs to that one.
func (c *accountCache) put(from, to int64, l *txLedger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cursor != from {
		return
	}
	c.cursor = to
	for _, id := range l.gone {
		if el, ok := c.byID[id]; ok {
			c.lru.Remove(el)
			delete(c.byID, id)
		}
	}
	for id, a := range l.accounts {
		e := &cacheEntry{a: a, from: l.from, complete: l.complete[id]}
		if el, ok := c.byID[id]; ok {
			c.lru.Remove(el)
		}
		c.byID[id] = c.lru.PushFront(e)
	}
	for c.lru.Len() > cachedAccounts {
		el := c.lru.Back()
		c.lru.Remove(el)
		delete(c.byID, el.Value.(*cacheEntry).a.Member.ID)
	}
}
