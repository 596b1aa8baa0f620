package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/respwire/respwire/internal/redistest"
	"github.com/respwire/respwire/resp"
)

// onPushPanicChild names the server a child process of
// TestOnPushPanicCrashesAtOnce runs its part against.
const onPushPanicChild = "CONN_TEST_ONPUSH_PANIC_ADDR"

// TestOnPushPanicCrashesAtOnce runs, in a child process, a Conn whose
// OnPush panics on the first push frame. The child must die of that panic
// while its Send still waits, with the panic's value and OnPush in the
// trace. Before, the reader's deferred cleanup waited for the writer, so the
// Conn stayed open and wedged: the Send timed out ("send returned") and
// the panic surfaced only inside Close.
func TestOnPushPanicCrashesAtOnce(t *testing.T) {
	if addr := os.Getenv(onPushPanicChild); addr != "" {
		onPushPanicInChild(addr)
		return
	}
	ctx, cancel := context.WithTimeout(testContext(t), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOnPushPanicCrashesAtOnce$", "-test.count=1")
	cmd.Env = append(os.Environ(), onPushPanicChild+"="+redistest.Server().Addr,
		"REDIS_ADDR="+redistest.Server().Addr) // the child starts no server of its own
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child did not crash: %v\n%s\n%s", err, stdout.String(), stderr.String())
	assert.Equal(t, 2, exit.ExitCode(), "a Go panic's exit status")
	assert.Contains(t, stderr.String(), "panic: onpush boom")
	assert.Contains(t, stderr.String(), "conn.onPushPanicInChild.func1", "OnPush is in the trace")
	assert.Contains(t, stderr.String(), "conn.(*Conn).readLoop", "on the reader goroutine")
	assert.NotContains(t, stdout.String(), "send returned", "the Conn was wedged until Close")
}

func onPushPanicInChild(addr string) {
	c, err := Dial(context.Background(), addr, &Options{OnPush: func(resp.Value) { panic("onpush boom") }})
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(3)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Send(ctx, "SUBSCRIBE", "conn:onpush:panic")
	fmt.Println("send returned:", err)
	_ = c.Close()
	fmt.Println("closed")
	os.Exit(0)
}
