package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServersDieWithBinary runs this test binary as a child that starts a
// server and then panics or is killed with SIGKILL: in neither case does
// teardown run, and the server must still die (Pdeathsig).
func TestServersDieWithBinary(t *testing.T) {
	for _, mode := range []string{"panic", "wait", "signal"} {
		t.Run(mode, func(t *testing.T) {
			tmp := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+mode, "TMPDIR="+tmp)
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			defer stdin.Close()
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())

			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err)
			var pid int
			_, err = fmt.Sscanf(line, "pid %d", &pid)
			require.NoError(t, err, "child said %q", line)
			require.NotZero(t, pid)
			switch mode {
			case "wait":
				require.NoError(t, cmd.Process.Kill())
			case "signal":
				require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			}
			err = cmd.Wait()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "the child must die abnormally")
			assert.Eventually(t, func() bool { return processGone(pid) }, 5*time.Second, 10*time.Millisecond,
				"redis-server %d outlived the test binary", pid)
			if mode == "signal" {
				left, err := os.ReadDir(tmp)
				require.NoError(t, err)
				assert.Empty(t, left, "the signal handler removes the servers' directories")
			} else {
				t.Setenv("TMPDIR", tmp)
				left, err := filepath.Glob(filepath.Join(tmp, dirPattern))
				require.NoError(t, err)
				require.NotEmpty(t, left, "a binary that dies without teardown leaves its directories")
				removeStaleDirs()
				left, err = filepath.Glob(filepath.Join(tmp, dirPattern))
				require.NoError(t, err)
				assert.Empty(t, left, "the next Main removes them")
			}
		})
	}
}

// processGone reports whether pid no longer runs (a zombie waiting for its
// new parent to reap it counts as gone).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] == "Z"
}

// TestMainFailsWithoutServer runs Main in a child whose PATH has no
// redis-server: it must run no test and exit 1, naming the package to
// install.
func TestMainFailsWithoutServer(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=.")
	cmd.Env = append(os.Environ(), childEnv+"=main", "PATH="+t.TempDir(), EnvAddr+"=", "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "output: %s", out)
	assert.Equal(t, 1, exitErr.ExitCode())
	assert.Contains(t, string(out), "apt-get install redis-server")
	assert.NotContains(t, string(out), "PASS")
}

// TestMainUsesExistingServer runs Main in a child with REDIS_ADDR set to this
// binary's server: the child's tests run against it and start none.
func TestMainUsesExistingServer(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerAnswers$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=main", EnvAddr+"="+Server().Addr, "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "output: %s", out)
	assert.Contains(t, string(out), "redistest: server "+Server().Addr+" ")
	assert.Contains(t, string(out), "--- PASS: TestServerAnswers")
}
