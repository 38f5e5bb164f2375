package fault

import "time"

// ResetPeer resets the TCP connection (RST) once data arrives, after
// Timeout (Toxiproxy "reset_peer").
type ResetPeer struct {
	// Timeout is how long before the connection is reset (default 0: at
	// once; whole milliseconds).
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

func init() { Register("reset_peer", ResetPeer{}) }

// Validate checks timeout ≥ 0, in whole milliseconds.
func (r ResetPeer) Validate() error { return checkMillis("timeout", r.Timeout, false) }

// Attributes are timeout in whole milliseconds.
func (r ResetPeer) Attributes() map[string]any { return map[string]any{"timeout": ms(r.Timeout)} }
