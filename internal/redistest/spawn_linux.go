//go:build linux

package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// On Linux every redis-server is forked from one goroutine locked to its OS
// thread. Pdeathsig is tied to the thread that forked the child, not to the
// process: forking from a thread that never exits while the test binary lives
// means that however the binary ends (a test panics, go test's timeout fires,
// someone sends SIGKILL), the kernel kills every server it started.

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

var spawner struct {
	mu       sync.Mutex
	requests chan spawnRequest
	done     chan struct{}
}

func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// startProcess starts cmd on the spawner thread.
func startProcess(cmd *exec.Cmd) error {
	cmd.SysProcAttr = procAttr()
	spawner.mu.Lock()
	if spawner.requests == nil {
		spawner.requests = make(chan spawnRequest)
		spawner.done = make(chan struct{})
		go spawnLoop(spawner.requests, spawner.done)
	}
	requests := spawner.requests
	req := spawnRequest{cmd: cmd, errc: make(chan error, 1)}
	// Send under the lock so that stopSpawner cannot close the channel
	// between reading it and sending on it.
	requests <- req
	spawner.mu.Unlock()
	return <-req.errc
}

func spawnLoop(requests <-chan spawnRequest, done chan<- struct{}) {
	// Never unlocked: when this goroutine returns its thread is terminated,
	// which sends SIGKILL to anything still running that it forked.
	runtime.LockOSThread()
	defer close(done)
	for req := range requests {
		req.errc <- req.cmd.Start()
	}
}

// stopSpawner ends the spawner goroutine (so goleak does not see it). Call it
// only after every server has been killed; a later startProcess starts a new
// spawner.
func stopSpawner() {
	spawner.mu.Lock()
	defer spawner.mu.Unlock()
	if spawner.requests == nil {
		return
	}
	close(spawner.requests)
	<-spawner.done
	spawner.requests, spawner.done = nil, nil
}
