package pubsub

import (
	"context"
	"fmt"
	"sync"

	"github.com/respwire/respwire/cluster"
	"github.com/respwire/respwire/conn"
)

// ErrClosed is returned by a subscribe after Close. It wraps conn.ErrClosed.
var ErrClosed = fmt.Errorf("pubsub: subscriber closed: %w", conn.ErrClosed)

// Subscriber listens to channels, patterns and shard channels, on one server
// or across a cluster, and delivers what is published to them on Messages().
// Its methods are safe to call from many goroutines at once.
type Subscriber struct {
	cluster *cluster.Client // nil for a single server
	addr    string          // the single server
	opts    conn.Options    // of every connection; OnPush is the Subscriber's
	options Options         // with the defaults filled in

	// dialConn is conn.Dial; tests swap it for connections to a fake server.
	dialConn func(ctx context.Context, addr string, opts *conn.Options) (*conn.Conn, error)

	messages       chan Message
	delivery       sync.RWMutex // readers hand messages over; Close takes it to close messages
	messagesClosed bool         // guarded by delivery

	done   chan struct{}   // closed when Close starts
	closed chan struct{}   // closed when Close has finished: Done
	life   context.Context // ends when Close starts: bounds dials and repairs
	stop   context.CancelFunc
	wake   chan struct{}  // tells the repair worker there is work
	wg     sync.WaitGroup // the repair worker and one watcher per connection

	panicked hookPanics // which hooks' panics were logged

	mu         sync.Mutex
	closing    bool
	want       map[subKey]*link     // what the user wants, and where it is subscribed
	wanted     wantedSet            // the keys of want, for the readers
	orphans    map[subKey]struct{}  // wanted and subscribed nowhere: the repair worker's job
	strays     []stray              // subscribed without being wanted: the repair worker's job
	toRetire   []*conn.Conn         // detached on a reader goroutine: the repair worker retires them
	lost       map[subKey]lostSince // wanted, and not live since then: a Gap is due once they are
	tentative  map[subKey]int       // wanted by calls in flight only: how many claim each
	gaps       []*Gap               // for the repair worker to deliver, in order
	global     *link                // channels and patterns
	globalTurn int                  // which node of a cluster the next global link goes to
	nodes      map[string]*link     // shard channels, by node address
}

// New returns a Subscriber for the server at addr. It connects at once, so a
// wrong address or password is reported here. opts may be nil; its OnPush and
// OnPubSubMessage are ignored. Connections speak RESP3 unless opts.Protocol is 2 or the server
// refuses HELLO; then they speak RESP2.
func New(ctx context.Context, addr string, opts *conn.Options) (*Subscriber, error) {
	return NewWithOptions(ctx, addr, opts, nil)
}

// connect dials the channel and pattern connection of a single server's
// Subscriber and waits for it within ctx; on failure it closes s.
func (s *Subscriber) connect(ctx context.Context) error {
	s.mu.Lock()
	l, _ := s.linkLocked(spaceChannel, s.addr)
	s.startDialLocked(l)
	s.mu.Unlock()
	if _, err := l.wait(ctx); err != nil {
		s.Close()
		return fmt.Errorf("pubsub: %w", err)
	}
	return nil
}

// NewCluster returns a Subscriber for the cluster c talks to. Channels and
// patterns share one connection to any node; shard channels get one
// connection per master that owns their slots. The connections use
// c.ConnOptions(). It does not connect until the first subscribe, and does
// not close c.
func NewCluster(ctx context.Context, c *cluster.Client) (*Subscriber, error) {
	return NewClusterWithOptions(ctx, c, nil)
}

// newSubscriber returns a Subscriber that has no connection yet, with its
// repair worker running.
func newSubscriber(opts conn.Options, o *Options) (*Subscriber, error) {
	options, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.Protocol != 0 && opts.Protocol != 2 && opts.Protocol != 3 {
		return nil, fmt.Errorf("pubsub: Options.Protocol is %d; want 2 or 3", opts.Protocol)
	}
	opts.OnPush, opts.OnPubSubMessage = nil, nil
	// conn's own checks would take a reader held up by a full Messages()
	// for a silent connection and close it, losing what waits in the
	// socket: the links use the Subscriber's check instead, which knows.
	opts.SilenceTimeout, opts.IdlePing = -1, -1
	life, stop := context.WithCancel(context.Background())
	s := &Subscriber{
		opts:      opts,
		dialConn:  conn.Dial,
		options:   options,
		messages:  make(chan Message, options.MessageBuffer),
		done:      make(chan struct{}),
		closed:    make(chan struct{}),
		life:      life,
		stop:      stop,
		wake:      make(chan struct{}, 1),
		want:      make(map[subKey]*link),
		orphans:   make(map[subKey]struct{}),
		lost:      make(map[subKey]lostSince),
		tentative: make(map[subKey]int),
		nodes:     make(map[string]*link),
	}
	s.wg.Add(1)
	go s.repairLoop()
	return s, nil
}

// Subscribe subscribes to channels and returns once the server confirmed
// every one. In a cluster, any node delivers every PUBLISH.
//
// A subscribe that returns nil leaves every name subscribed. One that
// returns an error (its context ended, a server refused, Close) leaves the
// names it added unsubscribed (unless another call subscribing them at the
// same time succeeds), even those a server confirmed before the error: no message of them is handed to Messages() after it returned (some
// may be there from before), and the Subscriber unsubscribes them on its
// own, soon after, wherever a server took them. Names subscribed before the
// call stay subscribed. Subscribing a name twice is the same as once. The
// same holds for PSubscribe and SSubscribe.
func (s *Subscriber) Subscribe(ctx context.Context, channels ...string) error {
	return s.subscribeUser(ctx, spaceChannel, channels)
}

// PSubscribe subscribes to glob-style patterns and returns once the server
// confirmed every one.
func (s *Subscriber) PSubscribe(ctx context.Context, patterns ...string) error {
	return s.subscribeUser(ctx, spacePattern, patterns)
}

// SSubscribe subscribes to shard channels, in any slots: they are grouped by
// slot, and each group is sent to the master that owns the slot. It returns
// once every channel is confirmed. If a slot later moves, or its master is
// demoted or lost, the Subscriber follows it to the new owner by itself.
func (s *Subscriber) SSubscribe(ctx context.Context, channels ...string) error {
	return s.subscribeUser(ctx, spaceShard, channels)
}

// Unsubscribe unsubscribes from channels, or from every channel if none is
// named, and returns once the server confirmed it. No message of them is
// handed to Messages() once it is called, but some may still be waiting
// there from before.
//
// An unsubscribe that returns an error (its context ended, or a server
// refused) leaves the names unsubscribed all the same: nothing of them is
// delivered, and the Subscriber finishes the job on the server on its own
// (after its context ended) or leaves the server holding them (after a
// refusal; their messages are dropped). The same holds for PUnsubscribe and
// SUnsubscribe.
func (s *Subscriber) Unsubscribe(ctx context.Context, channels ...string) error {
	return s.unsubscribe(ctx, spaceChannel, channels)
}

// PUnsubscribe unsubscribes from patterns, or from every pattern if none is
// named.
func (s *Subscriber) PUnsubscribe(ctx context.Context, patterns ...string) error {
	return s.unsubscribe(ctx, spacePattern, patterns)
}

// SUnsubscribe unsubscribes from shard channels, or from every shard channel
// if none is named. The connection to a node whose last shard channel this
// was is closed.
func (s *Subscriber) SUnsubscribe(ctx context.Context, channels ...string) error {
	return s.unsubscribe(ctx, spaceShard, channels)
}

func (s *Subscriber) subscribeUser(ctx context.Context, sp space, names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("pubsub: %s needs at least one name", spaceCommands[sp].subscribe)
	}
	return s.subscribe(ctx, sp, names, attachUser, nil)
}

// Messages returns the channel messages are delivered on, in the order each
// connection received them. Nothing is dropped: while it is full, the
// connections stop reading. It is closed after Close.
func (s *Subscriber) Messages() <-chan Message {
	return s.messages
}

// Close closes every connection and stops delivery; Messages() is closed once
// all of them have stopped. Subscribes after Close fail with ErrClosed.
// Close is idempotent and safe from many goroutines: the first call tears
// down, every other returns nil at once.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	close(s.done)
	s.stop()
	conns := s.toRetire
	s.toRetire = nil
	if s.global != nil {
		if c := s.detachLocked(s.global); c != nil {
			conns = append(conns, c)
		}
	}
	for _, l := range s.nodes {
		if c := s.detachLocked(l); c != nil {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()

	closeAll(conns)
	s.wg.Wait() // the repair worker, and every watcher: each connection is closed

	s.delivery.Lock()
	s.messagesClosed = true
	close(s.messages)
	s.delivery.Unlock()
	close(s.closed)
	return nil
}

// Done is closed once the Subscriber is closed: Close has closed every
// connection, its goroutines have exited and Messages() is closed. As for
// conn.Conn.Done, only Close ends a Subscriber: a lost connection is
// redialled.
func (s *Subscriber) Done() <-chan struct{} { return s.closed }
