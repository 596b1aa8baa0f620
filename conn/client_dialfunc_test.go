package conn

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movingServer is a DialFunc whose target can be changed: it dials the
// current target and remembers every Conn it made, by address.
type movingServer struct {
	target atomic.Pointer[string]
	dials  atomic.Int32

	mu    sync.Mutex
	conns map[*Conn]string
}

func (m *movingServer) dial(ctx context.Context, opts *Options) (*Conn, error) {
	m.dials.Add(1)
	addr := *m.target.Load()
	cn, err := Dial(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.conns[cn] = addr
	m.mu.Unlock()
	return cn, nil
}

// moveTo points the dialer at addr and closes every Conn it made elsewhere.
func (m *movingServer) moveTo(addr string) {
	m.target.Store(&addr)
	m.mu.Lock()
	defer m.mu.Unlock()
	for cn, at := range m.conns {
		if at != addr {
			cn.Close()
			delete(m.conns, cn)
		}
	}
}

// TestClientFuncFollowsItsDialer: a Client made by NewClientFunc dials
// through its DialFunc every time, OnConnect included, so closing the Conns
// to one server and pointing the DialFunc at another moves every call there,
// blocking ones too.
func TestClientFuncFollowsItsDialer(t *testing.T) {
	ctx := testContext(t)
	a, b := redistest.Server(), redistest.NewNode(t, redistest.NodeOptions{})
	m := &movingServer{conns: make(map[*Conn]string)}
	m.target.Store(&a.Addr)
	var connects atomic.Int32
	c, err := NewClientFunc(ctx, m.dial, &Options{OnConnect: func(ctx context.Context, cn *Conn) error {
		connects.Add(1)
		return nil
	}})
	require.NoError(t, err)
	defer c.Close()

	port := func() string {
		v, err := c.Do(ctx, "CONFIG", "GET", "port")
		require.NoError(t, err)
		return text(t, v.Elems()[1])
	}
	require.Equal(t, a.Addr, "127.0.0.1:"+port())
	_, err = c.Do(ctx, "BLPOP", clientKey(t, "list"), "0.01")
	require.NoError(t, err)

	for range 2 { // a miss, then a hit: NewClientFunc caches as NewClient does
		_, err = c.DoCache(ctx, time.Minute, "GET", clientKey(t, "cached"))
		require.NoError(t, err)
	}
	require.Equal(t, 1, c.CacheStats().Entries)

	m.moveTo(b.Addr)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			v, err := c.Do(ctx, "CONFIG", "GET", "port")
			if assert.NoError(t, err) {
				assert.Equal(t, b.Addr, "127.0.0.1:"+text(t, v.Elems()[1]))
			}
		})
	}
	wg.Wait()
	_, err = c.Do(ctx, "BLPOP", clientKey(t, "list"), "0.01")
	require.NoError(t, err)
	m.mu.Lock()
	for cn, at := range m.conns {
		if cn.State() == StateOpen {
			assert.Equal(t, b.Addr, at)
		}
	}
	m.mu.Unlock()
	assert.Equal(t, m.dials.Load(), connects.Load(), "OnConnect runs on every Conn the DialFunc makes")
	assert.GreaterOrEqual(t, m.dials.Load(), int32(4))
}

// TestNewClientFuncReturnsTheDialError: the first dial's error is
// NewClientFunc's, and a DialFunc that returns neither Conn nor error is
// refused rather than handed on.
func TestNewClientFuncReturnsTheDialError(t *testing.T) {
	ctx := testContext(t)
	boom := errors.New("no master known")
	_, err := NewClientFunc(ctx, func(context.Context, *Options) (*Conn, error) { return nil, boom }, nil)
	require.ErrorIs(t, err, boom)
	_, err = NewClientFunc(ctx, func(context.Context, *Options) (*Conn, error) { return nil, nil }, nil)
	require.ErrorContains(t, err, "conn: DialFunc returned no Conn")
	_, err = NewClientFunc(ctx, nil, nil)
	require.ErrorContains(t, err, "nil DialFunc")
}
