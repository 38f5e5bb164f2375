package harness

import (
	"errors"

	"github.com/collide-dev/collide/report"
)

// Exit codes of collide, one per verdict class.
const (
	ExitPass    = 0 // every invariant held
	ExitFail    = 1 // an invariant was violated
	ExitUsage   = 2 // bad command line or profile
	ExitEnv     = 3 // environment or harness error: target or database unreachable, toxic not applied, checker could not run
	ExitUnknown = 4 // inconclusive: nothing violated, too many unknown outcomes
	ExitSignal  = 130
)

// ProfileError is bad input: the profile (or an override) is wrong.
type ProfileError struct{ Err error }

func (e *ProfileError) Error() string { return e.Err.Error() }
func (e *ProfileError) Unwrap() error { return e.Err }

// EnvError is a failure of the environment or of the harness itself.
type EnvError struct {
	Stage string // "stack", "setup", "chaos", "attack", "check", "result"
	Err   error
}

func (e *EnvError) Error() string { return e.Stage + ": " + e.Err.Error() }
func (e *EnvError) Unwrap() error { return e.Err }

func envErr(stage string, err error) error {
	if err == nil {
		return nil
	}
	return &EnvError{Stage: stage, Err: err}
}

// ExitCode maps a verdict to collide's exit code.
func ExitCode(v report.Verdict) int {
	switch v {
	case report.Pass:
		return ExitPass
	case report.Fail:
		return ExitFail
	case report.Unknown:
		return ExitUnknown
	case report.Interrupted:
		return ExitSignal
	default:
		return ExitEnv
	}
}

// ErrorExitCode maps an error returned by Run or Validate to an exit code.
func ErrorExitCode(err error) int {
	var pe *ProfileError
	if errors.As(err, &pe) {
		return ExitUsage
	}
	return ExitEnv
}
