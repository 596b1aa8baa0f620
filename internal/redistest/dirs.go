package redistest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Every directory the harness makes is named redistest-* in the system's
// temporary directory and holds a file naming the process that made it.
// Teardown removes a process's directories; a binary that dies without
// teardown (Pdeathsig still kills its servers) leaves them behind, and the
// next Main removes those whose process is gone.

const (
	dirPattern = "redistest-*"
	ownerFile  = "owner.pid"
)

// makeDir makes a directory owned by this process.
func makeDir() (string, error) {
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return "", fmt.Errorf("redistest: %w", err)
	}
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(pid), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("redistest: %w", err)
	}
	return dir, nil
}

// removeStaleDirs removes the harness directories of processes that no
// longer exist. A directory without an owner file is left alone: it may be
// one another process has just made.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}
