package pubsub

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/respwire/respwire/conn"
	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
	"github.com/stretchr/testify/require"
)

// rawPublisher publishes from a plain socket with pre-encoded commands and
// discards the replies, so that the benchmark's allocations are the
// subscriber's own.
type rawPublisher struct {
	nc      net.Conn
	batch   []byte // batchLen PUBLISH commands
	drained chan struct{}
}

const batchLen = 100

// publishWindow is how many messages the publisher may be ahead of the reader.
const publishWindow = 20000

func newRawPublisher(b *testing.B, cmd string, channels []string) *rawPublisher {
	nc, err := net.Dial("tcp", redistest.Server().Addr)
	require.NoError(b, err)
	p := &rawPublisher{nc: nc, drained: make(chan struct{})}
	payload := "0123456789abcdef" // 16 bytes
	for i := range batchLen {
		p.batch = resp.AppendCommand(p.batch, cmd, channels[i%len(channels)], payload)
	}
	go func() {
		defer close(p.drained)
		io.Copy(io.Discard, nc) // the integer replies
	}()
	return p
}

// publish sends n messages (rounded up to whole batches) from a goroutine,
// one batch per credit taken: the reader hands credits back as messages
// arrive, so the server's output buffer for the subscriber stays small
// (Redis disconnects a pub/sub client that falls 32 MB behind).
func (p *rawPublisher) publish(n int, credits <-chan struct{}) <-chan error {
	errc := make(chan error, 1)
	go func() {
		var err error
		for sent := 0; sent < n && err == nil; sent += batchLen {
			<-credits
			_, err = p.nc.Write(p.batch)
		}
		errc <- err
	}()
	return errc
}

func (p *rawPublisher) close() {
	p.nc.Close()
	<-p.drained
}

// BenchmarkReceive measures messages received per second and allocations
// per message: one publisher, one Subscriber, the messages spread over the
// given number of channels.
func BenchmarkReceive(b *testing.B) {
	subscribe := func(s *Subscriber, chs []string) error { return s.Subscribe(testContext(b), chs...) }
	ssubscribe := func(s *Subscriber, chs []string) error { return s.SSubscribe(testContext(b), chs...) }
	for _, bc := range []struct {
		name      string
		publish   string
		subscribe func(*Subscriber, []string) error
		channels  int
		protocol  int
	}{
		{"channels=1", "PUBLISH", subscribe, 1, 3},
		{"channels=100", "PUBLISH", subscribe, 100, 3},
		{"shard/channels=1", "SPUBLISH", ssubscribe, 1, 3},
		{"shard/channels=100", "SPUBLISH", ssubscribe, 100, 3},
		{"resp2/channels=1", "PUBLISH", subscribe, 1, 2},
		{"resp2/channels=100", "PUBLISH", subscribe, 100, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			name := uniqueName("bench")
			s, err := New(testContext(b), redistest.Server().Addr, &conn.Options{ClientName: name, Protocol: bc.protocol})
			require.NoError(b, err)
			defer s.Close()
			chans := names(name, bc.channels)
			require.NoError(b, bc.subscribe(s, chans))
			p := newRawPublisher(b, bc.publish, chans)
			defer p.close()

			total := (b.N + batchLen - 1) / batchLen * batchLen
			credits := make(chan struct{}, publishWindow/batchLen)
			for range cap(credits) {
				credits <- struct{}{}
			}
			stuck := time.NewTimer(time.Minute)
			defer stuck.Stop()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			sent := p.publish(total, credits)
			for i := 1; i <= total; i++ {
				select {
				case _, ok := <-s.Messages():
					if !ok {
						b.Fatal("Messages() closed")
					}
				case <-stuck.C:
					b.Fatalf("%d of %d messages after a minute", i-1, total)
				}
				if i%batchLen == 0 {
					select {
					case credits <- struct{}{}:
					default:
					}
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			require.NoError(b, <-sent)
			b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkDecodePush is the Subscriber's own work per message, without the
// network: taking a push frame apart.
func BenchmarkDecodePush(b *testing.B) {
	v := resp.NewPush(resp.NewBulkString("smessage"), resp.NewBulkString("channel:"+strconv.Itoa(42)), resp.NewBulkString("0123456789abcdef"))
	b.ReportAllocs()
	for b.Loop() {
		if decodePush(v).kind != pushMessage {
			b.Fatal("not a message")
		}
	}
}

// BenchmarkMessage is the Subscriber's work per message taken straight
// from the read buffer (see conn.Options.OnPubSubMessage), without the
// network: the channel found in the wanted set, the payload copied.
func BenchmarkMessage(b *testing.B) {
	s, err := newSubscriber(conn.Options{}, &Options{PingInterval: -1})
	require.NoError(b, err)
	defer s.Close()
	s.wanted.add(subKey{space: spaceShard, name: "channel:42"})
	pm := conn.PubSubMessage{Kind: "smessage", Channel: []byte("channel:42"), Payload: []byte("0123456789abcdef")}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.message(pm); !ok {
			b.Fatal("not wanted")
		}
	}
}

// BenchmarkDeliver is the Subscriber's work per message after decoding,
// without the network: the check that the subscription is still wanted and
// the hand-over to Messages(), with a reader that keeps up.
func BenchmarkDeliver(b *testing.B) {
	s, err := newSubscriber(conn.Options{}, &Options{PingInterval: -1})
	require.NoError(b, err)
	defer s.Close()
	l := newLink("bench", false)
	key := subKey{space: spaceChannel, name: "channel:42"}
	s.mu.Lock()
	s.want[key] = l
	s.wanted.add(key)
	s.mu.Unlock()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range s.messages {
		}
	}()
	m := Message{Kind: KindMessage, Channel: key.name, Payload: "0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		s.deliver(l, m)
	}
	b.StopTimer()
	s.Close()
	<-drained
}
