//go:build !unix

package stacks

import (
	"os"
	"os/exec"
)

// Without process groups, only the service's own process is stopped.
var (
	sigTerm = os.Kill
	sigKill = os.Kill
)

func ownProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ int, sig os.Signal) { _ = cmd.Process.Signal(sig) }

func groupAlive(int) bool { return false }

// processExists cannot tell without process signals: it says yes, so that
// nothing is swept.
func processExists(int) bool { return true }
