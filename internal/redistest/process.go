package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// serverBinary finds redis-server on PATH, once.
var serverBinary = sync.OnceValues(lookupServer)

func lookupServer() (string, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redistest: redis-server not found on PATH: install the Debian/Ubuntu package " +
			"redis-server (apt-get install redis-server), or point REDIS_ADDR / REDIS_CLUSTER_ADDRS at running servers")
	}
	return path, nil
}

// errPortInUse means the server could not bind its port (or cluster bus port).
var errPortInUse = errors.New("redistest: port already in use")

// logFile is the name of the server's log (its stdout and stderr).
const logFile = "redis.log"

// process is one run of redis-server. exited is closed once it has been
// reaped.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// signal sends sig to the server's process group (the server and any child it
// forked for replication).
func (p *process) signal(sig syscall.Signal) error {
	err := syscall.Kill(-p.cmd.Process.Pid, sig)
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("redistest: signal %v: %w", sig, err)
	}
	return nil
}

// kill sends SIGKILL and waits until the process has been reaped.
func (p *process) kill() error {
	err := p.signal(syscall.SIGKILL)
	<-p.exited
	return err
}

// launch starts the server from its redis.conf and waits until it answers
// PING. If the server exits first, the error says why (errPortInUse when it
// could not bind).
func (n *Node) launch(ctx context.Context, bin string) error {
	log, err := os.OpenFile(filepath.Join(n.dir, logFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	cmd := exec.Command(bin, configFile)
	if n.opts.Sentinel {
		cmd.Args = append(cmd.Args, "--sentinel")
	}
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = log, log
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		log.Close()
		return fmt.Errorf("redistest: node %s is stopped", n.Addr)
	}
	err = startProcess(cmd)
	log.Close() // the child has its own copy
	if err != nil {
		n.mu.Unlock()
		return fmt.Errorf("redistest: start redis-server: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	n.proc, n.paused = p, false
	n.mu.Unlock()
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	if err := n.waitReady(ctx, p); err != nil {
		p.kill()
		n.mu.Lock()
		if n.proc == p {
			n.proc = nil
		}
		n.mu.Unlock()
		return err
	}
	return nil
}

// waitReady polls until the server answers PING, exits or ctx ends. The
// answer must come from p: when another process took the port between the
// pick and the bind, its server answers there while p fails to bind and
// exits (errPortInUse).
func (n *Node) waitReady(ctx context.Context, p *process) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		err := n.answersAs(attempt, p.cmd.Process.Pid)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return n.exitError()
		case <-ctx.Done():
			return fmt.Errorf("redistest: %s did not answer PING: %w (last error: %v)", n.Addr, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// answersAs checks that the server on n.Addr answers PING and is the
// process pid.
func (n *Node) answersAs(ctx context.Context, pid int) error {
	replies, err := n.DoMulti(ctx, []string{"PING"}, []string{"INFO", "server"})
	if err != nil {
		return err
	}
	if err := replies[0].Err(); err != nil {
		return fmt.Errorf("redistest: %s PING: %w", n.Addr, err)
	}
	fields, err := parseFields(replies[1])
	if err != nil {
		return fmt.Errorf("redistest: %s INFO: %w", n.Addr, err)
	}
	if got := fields["process_id"]; got != strconv.Itoa(pid) {
		return fmt.Errorf("redistest: %s is served by process %s, not by the server just started (%d)", n.Addr, got, pid)
	}
	return nil
}

// exitError explains, from its log, why a server exited while starting.
func (n *Node) exitError() error {
	tail := logTail(filepath.Join(n.dir, logFile), 2048)
	if bytes.Contains(tail, []byte("Address already in use")) {
		return fmt.Errorf("%w: %s", errPortInUse, n.Addr)
	}
	return fmt.Errorf("redistest: redis-server for %s exited while starting; log ends with:\n%s", n.Addr, tail)
}

func logTail(path string, size int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return []byte(err.Error())
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > size {
		f.Seek(info.Size()-size, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	return bytes.TrimSpace(data)
}

// Kill sends SIGKILL to the server and waits until it is gone. Its port and
// directory stay reserved for Restart.
func (n *Node) Kill() error {
	if n.external {
		return ErrExternal
	}
	n.mu.Lock()
	p := n.proc
	n.proc, n.paused = nil, false
	n.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.kill()
}

// Restart starts the server again on the same port with the same
// configuration and directory (a cluster node reads its nodes.conf and
// rejoins), killing it first if it runs. It returns once the server answers
// PING; use TestCluster.WaitHealthy to wait for the cluster to take it
// back. Concurrent Restarts of one node run one after the other.
func (n *Node) Restart(ctx context.Context) error {
	if n.external {
		return ErrExternal
	}
	n.restartMu.Lock()
	defer n.restartMu.Unlock()
	if err := n.Kill(); err != nil {
		return err
	}
	ctx, cancel := withDefaultTimeout(ctx, startTimeout)
	defer cancel()
	bin, err := serverBinary()
	if err != nil {
		return err
	}
	// The port was free a moment ago; if something grabbed it, wait a
	// little for it to go rather than give up at once.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := n.launch(ctx, bin)
		if !errors.Is(err, errPortInUse) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-tick.C:
		}
	}
}

// Pause stops the server with SIGSTOP: connections stay open, nothing is
// answered, other cluster nodes see it fail after the node timeout.
func (n *Node) Pause() error { return n.pauseResume(true) }

// Resume continues a paused server with SIGCONT.
func (n *Node) Resume() error { return n.pauseResume(false) }

func (n *Node) pauseResume(pause bool) error {
	if n.external {
		return ErrExternal
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil {
		return fmt.Errorf("redistest: node %s is not running", n.Addr)
	}
	sig := syscall.SIGCONT
	if pause {
		sig = syscall.SIGSTOP
	}
	if err := n.proc.signal(sig); err != nil {
		return err
	}
	n.paused = pause
	return nil
}

// Stop kills the server and removes its directory. It is idempotent; a
// stopped node cannot be restarted. Stopping an external node does nothing.
func (n *Node) Stop() error {
	if n.external {
		return nil
	}
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	n.stopped = true
	n.mu.Unlock()
	err := n.Kill()
	if rmErr := os.RemoveAll(n.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("redistest: %w", rmErr)
	}
	untrack(n)
	return err
}
