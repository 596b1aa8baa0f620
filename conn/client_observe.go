package conn

import (
	"context"
	"log/slog"
	"time"

	"github.com/respwire/respwire/internal/cache"
)

// redialed reports the redial attempt (from 1), begun at start, that made
// cn, to Hooks.Redial and the log (Warn: a redial means the Conn before was
// lost).
func (c *Client) redialed(cn *Conn, attempt int, start time.Time) {
	d := time.Since(start)
	if c.logger != nil {
		c.logger.Warn("conn: redialled", slog.String("addr", cn.Addr()), slog.Int("attempt", attempt), slog.Duration("duration", d))
	}
	c.fireRedial(RedialEvent{Addr: cn.Addr(), Attempt: attempt, Duration: d})
}

// redialFailed reports a redial attempt that failed with err.
func (c *Client) redialFailed(attempt int, start time.Time, err error) {
	d := time.Since(start)
	if c.logger != nil {
		c.logger.Warn("conn: redial failed", slog.String("addr", c.addr), slog.Int("attempt", attempt), slog.Duration("duration", d), slog.String("err", err.Error()))
	}
	c.fireRedial(RedialEvent{Addr: c.addr, Attempt: attempt, Duration: d, Err: err})
}

func (c *Client) fireRedial(e RedialEvent) {
	h := c.hooks
	if h == nil || h.Redial == nil {
		return
	}
	defer recoverHook(h, c.logger, hookRedial)
	h.Redial(e)
}

// loggedDial is dial logging its failures at Warn on logger, for the
// dedicated Conns: a redial's are logged as such (see redialFailed), the
// first dial's are returned by NewClient.
func loggedDial(dial func(context.Context) (*Conn, error), logger *slog.Logger) func(context.Context) (*Conn, error) {
	if logger == nil {
		return dial
	}
	return func(ctx context.Context) (*Conn, error) {
		cn, err := dial(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("conn: dial failed", slog.String("err", err.Error()))
		}
		return cn, err
	}
}

// cacheHit reports a DoCache answered from the cache for the command args;
// without a Cache hook it costs one nil check.
func (c *Client) cacheHit(args []string) {
	if h := c.hooks; h != nil && h.Cache != nil {
		c.fireCache(CacheEvent{Kind: CacheHit, Name: args[0], Entries: 1})
	}
}

// cacheHitName is cacheHit for a command named name.
func (c *Client) cacheHitName(name string) {
	if h := c.hooks; h != nil && h.Cache != nil {
		c.fireCache(CacheEvent{Kind: CacheHit, Name: name, Entries: 1})
	}
}

// cacheMiss reports a DoCache read from the server for the command args.
func (c *Client) cacheMiss(args []string) {
	if h := c.hooks; h != nil && h.Cache != nil {
		c.fireCache(CacheEvent{Kind: CacheMiss, Name: args[0], Entries: 1})
	}
}

func (c *Client) fireCache(e CacheEvent) {
	defer recoverHook(c.hooks, c.logger, hookCache)
	c.hooks.Cache(e)
}

// observeCache has the cache tell the Cache hook of the Client's entries
// evicted and invalidated, until Close (see unobserveCache).
func (c *Client) observeCache() {
	cc := c.cache
	if h := c.hooks; h == nil || h.Cache == nil || cc.cache == nil {
		return
	}
	cc.cache.store.Observe(cc.ns, func(kind cache.DropKind, n int) {
		e := CacheEvent{Kind: CacheInvalidation, Entries: n}
		if kind == cache.DropEvicted {
			e.Kind = CacheEviction
		}
		c.fireCache(e)
	})
}

// unobserveCache ends observeCache: a Cache shared with other Clients
// outlives this one.
func (c *Client) unobserveCache() {
	if cc := c.cache; cc.cache != nil {
		cc.cache.store.Observe(cc.ns, nil)
	}
}
