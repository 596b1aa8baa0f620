package conn

import (
	"github.com/respwire/respwire/internal/cache"
)

// DefaultCacheMaxBytes bounds a Client's client-side cache when neither
// Options.Cache nor Options.CacheMaxBytes says otherwise: 64 MiB.
const DefaultCacheMaxBytes = 64 << 20

// Cache holds the replies that Client.DoCache and Client.DoMultiCache
// cached, within a byte bound. A Client makes its own unless Options.Cache
// gives it one; Clients given the same Cache share its bound, each with
// entries of its own (a cluster client shares one among its nodes). It is
// safe for concurrent use and needs no closing.
type Cache struct {
	store *cache.Store
}

// NewCache returns a Cache that keeps at most maxBytes of entries, as
// estimated from their strings plus a fixed overhead per entry and per
// value; 0 or less means DefaultCacheMaxBytes.
func NewCache(maxBytes int64) *Cache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheMaxBytes
	}
	return &Cache{store: cache.New(maxBytes)}
}

// CacheStats are a Cache's counters.
type CacheStats struct {
	Entries  int   // entries held
	Bytes    int64 // their estimated size
	MaxBytes int64 // the bound on Bytes
	// Misses counts lookups that found no usable entry (hits are not
	// counted, to keep them free of shared writes).
	Misses uint64
	// Evictions counts entries dropped, least recently used first, to stay
	// within MaxBytes.
	Evictions uint64
	// Invalidated counts entries dropped because the server invalidated
	// one of their keys, their connection was flushed or lost, or their
	// cluster slot moved.
	Invalidated uint64
}

// Stats returns the Cache's counters.
func (c *Cache) Stats() CacheStats {
	st := c.store.Stats()
	return CacheStats{
		Entries: st.Entries, Bytes: st.Bytes, MaxBytes: st.MaxBytes,
		Misses: st.Misses, Evictions: st.Evictions, Invalidated: st.Invalidated,
	}
}

// DropSlots drops every entry, of every Client that shares the Cache, whose
// keys hash to one of the cluster slots: a cluster client calls it when
// slots move to other nodes. Reads of those slots in flight are not cached.
func (c *Cache) DropSlots(slots []uint16) {
	c.store.DropSlots(slots)
}
