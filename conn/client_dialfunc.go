package conn

import (
	"context"
	"fmt"
)

// DialFunc makes one Conn for a Client, to whichever server it chooses at
// that moment: Dial to an address it has just looked up, as the conn/sentinel
// package does with the master the sentinels name. opts is the Client's copy
// of its Options; a DialFunc passes it to Dial unchanged (OnPush included)
// and does not run OnConnect, which the Client runs on the Conn it returns.
type DialFunc func(ctx context.Context, opts *Options) (*Conn, error)

// NewClientFunc is NewClient for a server whose address may change between
// dials. dial makes the first Conn, every redial after the shared Conn died,
// and the dedicated Conns of blocking commands and Dedicated; each call is
// bounded by opts.DialTimeout (10 s when 0), and the first one's error is
// returned. Calls on the Client are as fast as on NewClient's: dial is only
// called when a Conn is needed. Client-side caching is set up as NewClient
// does: opts carries the cache to Dial, so a DialFunc must pass it on.
//
// To move the Client to another server, close the Conns dial made to the old
// one: calls waiting in their write buffers go to the next Conn unwritten,
// written ones fail with ErrClosed, as when a server goes away.
func NewClientFunc(ctx context.Context, dial DialFunc, opts *Options) (*Client, error) {
	if dial == nil {
		return nil, fmt.Errorf("conn: NewClientFunc: nil DialFunc")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	cc := newClientCache(&o)
	c, err := newObservedClient(ctx, func(ctx context.Context) (*Conn, error) {
		cn, err := dial(ctx, &o)
		if err == nil && cn == nil {
			err = fmt.Errorf("conn: DialFunc returned no Conn and no error")
		}
		if err != nil || o.OnConnect == nil {
			return cn, err
		}
		if err := o.OnConnect(ctx, cn); err != nil {
			_ = cn.Close()
			return nil, fmt.Errorf("conn: OnConnect for %s: %w", cn.Addr(), err)
		}
		return cn, nil
	}, "", &o)
	if err != nil {
		return nil, err
	}
	c.cache = cc
	c.observeCache()
	return c, nil
}
