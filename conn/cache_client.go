package conn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/respwire/respwire/internal/cache"
	"github.com/respwire/respwire/resp"
)

// clientCache is a Client's part in client-side caching.
type clientCache struct {
	cache *Cache // nil: caching is off (Options.DisableCache)
	ns    uint64 // the Client's namespace in a shared Cache
	// commands holds what COMMAND INFO said of each command name asked
	// about, lower-cased: *cacheCommand.
	commands sync.Map
}

// namespaces numbers the Clients, so that Clients sharing a Cache never see
// each other's entries.
var namespaces atomic.Uint64

// newClientCache sets o up for caching as it asks, and returns the Client's
// part.
func newClientCache(o *Options) *clientCache {
	cc := &clientCache{ns: namespaces.Add(1)}
	if o.DisableCache {
		return cc
	}
	cc.cache = o.Cache
	if cc.cache == nil {
		cc.cache = NewCache(o.CacheMaxBytes)
	}
	o.cacheStore = cc.cache.store
	return cc
}

var errCacheTTL = errors.New("conn: DoCache: ttl must be positive")

// DoCache returns the reply to a read-only command with keys, from the
// client-side cache when it holds one, else from the server, caching it for
// at most ttl (which must be positive), and never beyond the key's expiry
// on the server. An error reply is returned, as for Do, and not cached. A command that is not
// cacheable (see the package documentation) is refused with an error and
// not sent. With caching off, or on a RESP2 connection, DoCache reads
// through: it sends the command as Do would and caches nothing.
//
// A hit costs no allocation and touches neither the network nor the Conn:
// the Value returned is the cached one, shared with every other caller that
// gets it. It is immutable as long as nobody modifies the slices its Elems
// and Attrs return, which callers must not do.
func (c *Client) DoCache(ctx context.Context, ttl time.Duration, args ...string) (resp.Value, error) {
	if cc := c.cache; cc.cache != nil && ttl > 0 {
		if v, ok := cc.cache.store.Lookup(cc.ns, args); ok {
			c.cacheHit(args)
			return v, nil
		}
	}
	return c.doCacheMiss(ctx, ttl, args)
}

func (c *Client) doCacheMiss(ctx context.Context, ttl time.Duration, args []string) (resp.Value, error) {
	if err := checkCommand(args); err != nil {
		return resp.Value{}, err
	}
	if ttl <= 0 {
		return resp.Value{}, errCacheTTL
	}
	c.cacheMiss(args)
	// A copy, so that the caller's args don't escape: a hit then costs the
	// caller no allocation for its variadic slice.
	return c.readCached(ctx, ttl, slices.Clone(args))
}

// readCached is DoCache's miss: it reads args through the cache, as the
// leader of the read or waiting for the one in flight.
func (c *Client) readCached(ctx context.Context, ttl time.Duration, args []string) (resp.Value, error) {
	keys, err := c.cacheKeys(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	cc := c.cache
	cn := c.current.Load()
	for {
		if cc.cache == nil || !cn.tracking.on {
			return c.Do(ctx, args...)
		}
		store := cc.cache.store
		f, leader := store.Begin(cc.ns, args, keys, cn.owner())
		if !leader {
			v, ok, err := f.Wait(ctx)
			if err != nil {
				return resp.Value{}, err
			}
			if ok {
				return v, v.Err()
			}
			cn = c.current.Load() // the leader's read failed: read again
			continue
		}
		sent := store.Now()
		vals, err := cn.doTracked(ctx, args, trackedRead(nil, args, keys))
		if err != nil {
			store.Finish(f, resp.Value{}, 0, false)
			if !retryable(err) {
				return resp.Value{}, err
			}
			if cn, err = c.next(ctx, cn); err != nil {
				return resp.Value{}, err
			}
			continue
		}
		v, err := finishTracked(store, f, vals, sent, ttl)
		if err != nil {
			return resp.Value{}, err
		}
		return v, v.Err()
	}
}

// trackedRead appends to cmds what a cached read of args writes: CLIENT
// CACHING YES, the command, and a PTTL for each of its keys.
func trackedRead(cmds [][]string, args, keys []string) [][]string {
	cmds = append(cmds, cachingYes, args)
	for _, k := range keys {
		cmds = append(cmds, []string{"PTTL", k})
	}
	return cmds
}

// finishTracked ends the read f with its replies (those trackedRead asked
// for), sent at sent on the store's clock, and returns the command's reply.
// The entry expires after ttl or at the earliest of the keys' server
// expiries less a millisecond, counted from when the read was sent.
func finishTracked(store *cache.Store, f *cache.Fill, vals []resp.Value, sent int64, ttl time.Duration) (resp.Value, error) {
	if e := vals[0].Err(); e != nil {
		store.Finish(f, resp.Value{}, 0, false)
		return resp.Value{}, fmt.Errorf("conn: DoCache: CLIENT CACHING YES: %w", e)
	}
	v := vals[1]
	expires := sent + int64(ttl)
	for _, p := range vals[2:] {
		ms, err := p.Int()
		switch {
		case err != nil:
			expires = sent // no TTL known: answer, don't keep
		case ms >= 0: // -1: no expiry; -2: no key (its creation invalidates)
			// The server counts in whole milliseconds of a clock it
			// truncates, so its PTTL can be up to 1 ms longer than what
			// is left: one is taken off, so an entry never outlives its
			// key.
			expires = min(expires, sent+(ms-1)*int64(time.Millisecond))
		}
	}
	store.Finish(f, v, expires, true)
	return v, nil
}

// connLost drops the entries read on old, a Conn that closed: none of them
// is returned by then anyway (a hit checks its Conn), this frees them.
func (c *Client) connLost(old *Conn) {
	if s := old.tracking.store; s != nil {
		s.DropOwner(old.owner())
	}
}

// CacheStats returns the counters of the Client's cache (shared with the
// other Clients of an Options.Cache); zero when caching is off.
func (c *Client) CacheStats() CacheStats {
	if c.cache.cache == nil {
		return CacheStats{}
	}
	return c.cache.cache.Stats()
}
