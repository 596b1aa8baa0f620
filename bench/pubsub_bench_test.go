package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// publishBatch PUBLISH commands go out in one write.
	publishBatch = 100
	// publishWindow bounds the messages published but not yet received, so
	// a slow subscriber slows the publisher instead of filling the server's
	// output buffer for it (which would get it disconnected).
	publishWindow = 20 * publishBatch
	pubsubTimeout = time.Minute
)

var channelSeq atomic.Int64

// BenchmarkPubSub measures messages received per second by one subscriber
// while one publisher publishes b.N 16-byte messages on its channel. The
// publisher is the same for every client: a raw connection that writes
// PUBLISH commands in batches of 100, at most publishWindow ahead of what
// the subscriber has received, so the figure is the subscriber's.
func BenchmarkPubSub(b *testing.B) {
	addr := standaloneAddr(b)
	for _, k := range clientKinds() {
		if k.subscribe == nil {
			continue
		}
		b.Run(k.name, func(b *testing.B) { benchPubSub(b, addr, k.subscribe) })
	}
}

func benchPubSub(b *testing.B, addr string, subscribe subscribeFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), pubsubTimeout)
	defer cancel()
	channel := fmt.Sprintf("bench:channel:%d", channelSeq.Add(1))
	r := newReceiver(b.N)
	sub, err := subscribe(ctx, addr, channel, r.deliver)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := sub.Close(); err != nil {
			b.Error(err)
		}
	}()
	pub, err := dialPublisher(ctx, addr, channel)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := pub.close(); err != nil {
			b.Error(err)
		}
	}()

	b.ReportAllocs()
	b.ResetTimer()
	start, startCPU := time.Now(), processCPU(b)
	acked := 0
	for sent := 0; sent < b.N; {
		for sent-acked*publishBatch >= publishWindow {
			select {
			case <-r.acks:
				acked++
			case <-ctx.Done():
				b.Fatalf("bench: subscriber received %d of %d messages in %v", acked*publishBatch, sent, pubsubTimeout)
			}
		}
		n := min(publishBatch, b.N-sent)
		if err := pub.publish(n); err != nil {
			b.Fatal(err)
		}
		sent += n
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		b.Fatalf("bench: subscriber did not receive all %d messages in %v", b.N, pubsubTimeout)
	}
	elapsed, cpu := time.Since(start), processCPU(b)-startCPU
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	// The process's CPU time per message: the subscriber's, plus the
	// publisher's, which is the same for every client. Unlike msgs/s it
	// hardly moves when other processes load the machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
}

// processCPU returns the CPU time, user and system, the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// receiver counts messages on the subscriber's delivering goroutine and
// tells the publisher about each batch received.
type receiver struct {
	want, got int
	acks      chan struct{} // one per publishBatch messages received
	done      chan struct{} // closed when want messages have arrived
}

func newReceiver(want int) *receiver {
	return &receiver{want: want, acks: make(chan struct{}, want/publishBatch+1), done: make(chan struct{})}
}

func (r *receiver) deliver(payload string) {
	if len(payload) != valueSize {
		return // not one of ours; the count comes up short and the benchmark says so
	}
	r.got++
	if r.got%publishBatch == 0 {
		r.acks <- struct{}{} // never blocks: room for every batch
	}
	if r.got == r.want {
		close(r.done)
	}
}

// publisher writes pre-encoded PUBLISH commands on a plain connection and
// discards the replies.
type publisher struct {
	conn    net.Conn
	batch   []byte // publishBatch identical commands
	drained chan error
}

func dialPublisher(ctx context.Context, addr, channel string) (*publisher, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench: publisher: %w", err)
	}
	p := &publisher{conn: nc, drained: make(chan error, 1)}
	for range publishBatch {
		p.batch = fmt.Appendf(p.batch, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
			len(channel), channel, len(value16), value16)
	}
	go func() {
		_, err := io.Copy(io.Discard, nc)
		p.drained <- err
	}()
	return p, nil
}

// publish writes n ≤ publishBatch commands in one write.
func (p *publisher) publish(n int) error {
	if _, err := p.conn.Write(p.batch[:len(p.batch)/publishBatch*n]); err != nil {
		return fmt.Errorf("bench: publisher: %w", err)
	}
	return nil
}

func (p *publisher) close() error {
	err := p.conn.Close()
	<-p.drained // io.Copy's error after Close says nothing new
	return err
}
