//go:build unix

package stacks

import (
	"os/exec"
	"syscall"
)

const (
	sigTerm = syscall.SIGTERM
	sigKill = syscall.SIGKILL
)

// ownProcessGroup makes the command the leader of a new process group (and,
// on Linux, asks the kernel to kill it if collide dies).
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// signalGroup sends sig to every process in process group pgid.
func signalGroup(_ *exec.Cmd, pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// processExists reports whether a process with this pid exists (zombies
// included: they are gone for good soon enough).
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
