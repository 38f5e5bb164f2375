// Package harness wires one run of a profile: stack up, setup SQL, chaos links
// and schedule, the attack, healing, settling, the invariant checks and the
// result file. It owns the run's timeouts, its seeded random source and the
// order of cleanup: whatever happens, toxics and proxies are removed, started
// services stopped and a result (partial if need be) written.
//
// Errors are classified for the CLI's exit codes: a *ProfileError is bad input
// (exit 2); an *EnvError is an environment or harness failure (exit 3).
package harness
