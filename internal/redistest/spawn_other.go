//go:build !linux

package redistest

import (
	"os/exec"
	"syscall"
)

// Outside Linux there is no Pdeathsig: servers are killed by Main's teardown
// and its signal handler, but not when the test binary is killed hard.

func startProcess(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Start()
}

func stopSpawner() {}
