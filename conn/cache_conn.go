package conn

import (
	"github.com/respwire/respwire/internal/cache"
	"github.com/respwire/respwire/resp"
)

// trackingCommand turns tracking on in the handshake, in OPTIN mode: the
// server tracks only the reads that follow CLIENT CACHING YES, so plain
// reads cost it no tracking memory.
var trackingCommand = []string{"CLIENT", "TRACKING", "ON", "OPTIN"}

// cachingYes precedes, in the same write, every read whose keys the server
// is to track.
var cachingYes = []string{"CLIENT", "CACHING", "YES"}

// connTracking is a Conn's part in client-side caching.
type connTracking struct {
	// store receives the invalidations the server pushes; nil when the
	// Conn was dialled without caching. Set before the Conn starts.
	store *cache.Store
	// on: the handshake turned tracking on. Set before the Conn starts.
	on bool
}

// connOwner is a Conn as the owner of cache entries: they are good while it
// is open.
type connOwner Conn

func (o *connOwner) Open() bool { return (*Conn)(o).State() == StateOpen }

// owner returns c as the owner of the entries read on it.
func (c *Conn) owner() cache.Owner { return (*connOwner)(c) }

// invalidated applies an invalidation push to the cache, on the goroutine
// that read it, before any later frame is read: ["invalidate", [key ...]]
// drops the entries that read those keys, ["invalidate", null] (FLUSHALL,
// FLUSHDB) every entry read on c. It reports whether v was one.
func (c *Conn) invalidated(v resp.Value) bool {
	elems := v.Elems()
	if c.tracking.store == nil || len(elems) != 2 {
		return false
	}
	if kind, _ := elems[0].Text(); kind != "invalidate" {
		return false
	}
	if elems[1].IsNull() {
		c.tracking.store.DropOwner(c.owner())
		return true
	}
	keys := make([]string, 0, len(elems[1].Elems()))
	for _, k := range elems[1].Elems() {
		if s, err := k.Text(); err == nil {
			keys = append(keys, s)
		}
	}
	c.tracking.store.Invalidate(keys...)
	return true
}
