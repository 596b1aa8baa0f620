package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
)

// Options configures a Subscriber beyond its connections (those take
// conn.Options). The zero value, or a nil *Options, means every default.
type Options struct {
	// MessageBuffer is how many messages wait in Messages() for the
	// application before the connections stop reading (backpressure). 0
	// means 256; it must not be negative. A bigger buffer rides out longer
	// pauses of the reader; it does not raise the server's output limit
	// (see the package doc, "Backpressure").
	MessageBuffer int
	// PingInterval is how often every connection is sent a PING, which
	// proves it alive even while no message arrives. 0 means 1 s; a
	// negative value turns the check off. This check replaces conn's
	// (conn.Options.SilenceTimeout and IdlePing are turned off on the
	// Subscriber's connections): conn's can't tell a reader held up by a
	// full Messages() from a silent connection.
	PingInterval time.Duration
	// PingTimeout is how long a PING may go unanswered, with nothing read
	// on its connection meanwhile and the reader not held up by a full
	// Messages(), before the Subscriber asks the server on a fresh
	// connection. If that one is answered while the PING is still not, the
	// connection is lost: it is closed, and its subscriptions are restored
	// on a new one with a gap reported. 0 means 500 ms.
	PingTimeout time.Duration
	// Hooks, when not nil, report resubscribes and gaps; the
	// conn.Options' Hooks report every connection's commands and dials.
	Hooks *Hooks
}

// The defaults of Options.
const (
	DefaultMessageBuffer = 256
	DefaultPingInterval  = time.Second
	DefaultPingTimeout   = 500 * time.Millisecond
)

// withDefaults returns o with its zero fields set to the defaults, or an
// error naming a field that can't be used.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MessageBuffer < 0 {
		return out, fmt.Errorf("pubsub: Options.MessageBuffer is %d; want 0 (the default) or more", out.MessageBuffer)
	}
	if out.MessageBuffer == 0 {
		out.MessageBuffer = DefaultMessageBuffer
	}
	if out.PingInterval == 0 {
		out.PingInterval = DefaultPingInterval
	}
	if out.PingTimeout <= 0 {
		out.PingTimeout = DefaultPingTimeout
	}
	return out, nil
}

// NewWithOptions is New with Options. connOpts may be nil, and so may opts.
func NewWithOptions(ctx context.Context, addr string, connOpts *conn.Options, opts *Options) (*Subscriber, error) {
	var co conn.Options
	if connOpts != nil {
		co = *connOpts
	}
	s, err := newSubscriber(co, opts)
	if err != nil {
		return nil, err
	}
	s.addr = addr
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// NewClusterWithOptions is NewCluster with Options. opts may be nil.
func NewClusterWithOptions(ctx context.Context, c *cluster.Client, opts *Options) (*Subscriber, error) {
	if c == nil {
		return nil, errors.New("pubsub: NewCluster: nil cluster client")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := newSubscriber(c.ConnOptions(), opts)
	if err != nil {
		return nil, err
	}
	s.cluster = c
	return s, nil
}
