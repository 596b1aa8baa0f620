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

// Every directory the harness makes is named redistest-* in baseDir and
// holds a file naming the process that made it.
// Teardown removes a process's directories; a binary that dies without
// teardown (Pdeathsig still kills its servers) leaves them behind, and the
// next Main removes those whose process is gone.

const (
	dirPattern = "redistest-*"
	ownerFile  = "owner.pid"
)

const (
	shmDir    = "/dev/shm" // Linux's memory-backed file system
	accessRWX = 7          // R_OK|W_OK|X_OK for syscall.Access
)

// baseDir is where the servers' directories go: $TMPDIR when it is set,
// else /dev/shm when it is a directory, else the system's temporary
// directory. Servers fsync their configuration on every change (a cluster
// node its nodes.conf at each epoch, a sentinel its config at each vote, a
// promoted replica at CONFIG REWRITE) inside their event loop; on a disk
// that other processes keep busy one fsync was measured at 950 ms, long
// enough for a sentinel to give up a failover. On tmpfs it costs nothing.
func baseDir() string {
	if os.Getenv("TMPDIR") == "" {
		if info, err := os.Stat(shmDir); err == nil && info.IsDir() && syscall.Access(shmDir, accessRWX) == nil {
			return shmDir
		}
	}
	return os.TempDir()
}

// makeDir makes a directory owned by this process.
func makeDir() (string, error) {
	dir, err := os.MkdirTemp(baseDir(), dirPattern)
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
	dirs, _ := filepath.Glob(filepath.Join(baseDir(), dirPattern))
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
