package cluster

import "sync"

// maxBatchRunners bounds the goroutines a Client keeps for sending the
// batches of DoMulti rounds (see batchRunners).
const maxBatchRunners = 16

// batchRunners are the goroutines a Client keeps to send the batches of a
// DoMulti round that its caller does not send itself (see rounds): a
// goroutine made for each batch grows its stack to what writing a batch and
// reading its replies takes, copying it at every doubling, each time; a kept
// one has grown it already. Idle runners wait for work until Close; a busy
// one finishes its batch first, which closing the nodes cuts short.
type batchRunners struct {
	work    chan func() // unbuffered: only an idle runner takes from it
	running int         // runners started (guarded by Client.flightMu)
	exited  sync.WaitGroup
}

// runBatch runs fn on an idle runner; when none is idle, on a new runner
// while fewer than maxBatchRunners run and Close has not begun, else on a
// goroutine of its own, as it would without runners.
func (c *Client) runBatch(fn func()) {
	select {
	case c.runners.work <- fn:
		return
	default:
	}
	c.flightMu.Lock()
	start := !c.stopped && c.runners.running < maxBatchRunners
	if start {
		c.runners.running++
		c.runners.exited.Add(1)
	}
	c.flightMu.Unlock()
	if !start {
		go fn()
		return
	}
	go c.batchRunner(fn)
}

// batchRunner runs fn, then whatever runBatch hands it, until Close.
func (c *Client) batchRunner(fn func()) {
	defer c.runners.exited.Done()
	for {
		fn()
		select {
		case fn = <-c.runners.work:
		case <-c.lifetime.Done():
			return
		}
	}
}
