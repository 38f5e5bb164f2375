//go:build !unix

package chaos

// pidAlive cannot tell here: every owner counts as alive, so nothing of
// this host is removed unless forced.
func pidAlive(int) bool { return true }
