package redistest

import (
	"fmt"
	"io"
	"os"
	"testing"
)

// childEnv makes the test binary a child process for TestServersDieWithBinary
// instead of running the tests.
const childEnv = "REDISTEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		runChild(m, mode)
		return
	}
	Main(m, NeedServer|NeedCluster|NeedTLSServer)
}

// runChild starts a server, prints its PID and then dies the way mode says:
// "panic" panics on another goroutine, as a failing test does; "wait" waits
// for the parent to kill it; "signal" does the same with Main's signal
// handler installed. Mode "main" just runs Main with NeedServer.
func runChild(m *testing.M, mode string) {
	switch mode {
	case "main":
		Main(m, NeedServer)
		return
	case "signal":
		defer killOnSignal()()
	}
	n, err := StartNode(NodeOptions{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("pid %d\n", n.PID())
	switch mode {
	case "panic":
		done := make(chan struct{})
		go func() {
			defer close(done)
			panic("redistest child: a test panics")
		}()
		<-done
	case "wait", "signal":
		io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(3)
}
