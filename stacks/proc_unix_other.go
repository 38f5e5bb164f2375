//go:build unix && !linux

package stacks

import (
	"errors"
	"syscall"
)

func setDeathSignal(*syscall.SysProcAttr) {}

// groupAlive reports whether process group pgid has a member left.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
