package pubsub

import (
	"context"
	"errors"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/conn/sentinel"
)

// NewSentinel returns a Subscriber for the master that c follows. Its
// connection is dialled through c.DialMaster, with c.ConnOptions(): to the
// master the sentinels name, checked with ROLE. When the sentinels announce
// a switch, c closes that connection; the Subscriber then dials the new
// master and subscribes every channel and pattern again, as after any lost
// connection; then it reports the time they were down as a Gap (Messages
// published meanwhile may be missing). It connects at once, and does not
// close c, which must outlive it.
func NewSentinel(ctx context.Context, c *sentinel.Client) (*Subscriber, error) {
	if c == nil {
		return nil, errors.New("pubsub: NewSentinel: nil sentinel client")
	}
	s, err := newSubscriber(c.ConnOptions(), nil)
	if err != nil {
		return nil, err
	}
	s.addr = "the master of " + c.MasterName()
	s.dialConn = func(ctx context.Context, _ string, opts *conn.Options) (*conn.Conn, error) {
		return c.DialMaster(ctx, opts)
	}
	if err := s.connect(ctx); err != nil {
		return nil, err
	}
	return s, nil
}
