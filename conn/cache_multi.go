package conn

import (
	"context"
	"time"

	"github.com/respwire/respwire/internal/cache"
	"github.com/respwire/respwire/resp"
)

// DoMultiCache is DoCache for several commands: it answers the hits from
// the cache and sends every miss in one write (each as CLIENT CACHING YES,
// the command and its PTTLs), then returns the replies in the order of
// cmds. As with DoMulti, error replies stay in the values; the error is for
// the whole call (a command that is not cacheable, refused before anything
// is sent; ctx ending; the connection closing). A miss that another caller
// is already reading waits for that read instead of sending its own.
func (c *Client) DoMultiCache(ctx context.Context, ttl time.Duration, cmds ...[]string) ([]resp.Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	if ttl <= 0 {
		return nil, errCacheTTL
	}
	vals := make([]resp.Value, len(cmds))
	cc := c.cache
	var missing []int
	for i, args := range cmds {
		if cc.cache != nil {
			if v, ok := cc.cache.store.Lookup(cc.ns, args); ok {
				vals[i] = v
				c.cacheHit(args)
				continue
			}
		}
		missing = append(missing, i)
		c.cacheMiss(args)
	}
	if len(missing) == 0 {
		return vals, nil
	}
	keys := make([][]string, len(cmds))
	for _, i := range missing {
		if err := checkCommand(cmds[i]); err != nil {
			return nil, err
		}
		k, err := c.cacheKeys(ctx, cmds[i])
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	cn := c.current.Load()
	for len(missing) > 0 {
		if cc.cache == nil || !cn.tracking.on {
			return c.readThrough(ctx, vals, cmds, missing)
		}
		var err error
		missing, err = c.multiMiss(ctx, cn, ttl, vals, cmds, keys, missing)
		if err == nil {
			cn = c.current.Load()
			continue
		}
		if !retryable(err) {
			return nil, err
		}
		if cn, err = c.next(ctx, cn); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// multiMiss reads the missing commands on cn, as DoMultiCache describes,
// and returns those still missing: the ones whose shared read (led by
// another caller) failed.
func (c *Client) multiMiss(ctx context.Context, cn *Conn, ttl time.Duration, vals []resp.Value, cmds, keys [][]string, missing []int) ([]int, error) {
	store := c.cache.cache.store
	type read struct {
		i int
		f *cache.Fill
	}
	var led, joined []read
	var batch [][]string
	for _, i := range missing {
		f, leader := store.Begin(c.cache.ns, cmds[i], keys[i], cn.owner())
		if !leader {
			joined = append(joined, read{i, f})
			continue
		}
		led = append(led, read{i, f})
		batch = trackedRead(batch, cmds[i], keys[i])
	}
	if len(led) > 0 {
		sent := store.Now()
		replies, err := cn.DoMulti(ctx, batch...)
		if err != nil {
			for _, r := range led {
				store.Finish(r.f, resp.Value{}, 0, false)
			}
			return missing, err
		}
		for _, r := range led {
			n := 2 + len(keys[r.i])
			v, err := finishTracked(store, r.f, replies[:n], sent, ttl)
			if err != nil {
				v = resp.NewSimpleError(err.Error())
			}
			vals[r.i] = v
			replies = replies[n:]
		}
	}
	var again []int
	for _, r := range joined {
		v, ok, err := r.f.Wait(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			again = append(again, r.i)
			continue
		}
		vals[r.i] = v
	}
	return again, nil
}

// readThrough sends the missing commands uncached, in one DoMulti, for a
// Client with caching off or a connection without tracking.
func (c *Client) readThrough(ctx context.Context, vals []resp.Value, cmds [][]string, missing []int) ([]resp.Value, error) {
	batch := make([][]string, len(missing))
	for j, i := range missing {
		batch[j] = cmds[i]
	}
	replies, err := c.DoMulti(ctx, batch...)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		vals[i] = replies[j]
	}
	return vals, nil
}
