package fault

import "time"

// Timeout stops all data and closes the connection after Timeout
// (Toxiproxy "timeout").
type Timeout struct {
	// Timeout is how long before the connection is closed (default 0: held
	// open, silent, for as long as the fault stays; whole milliseconds).
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
}

func init() { Register("timeout", Timeout{}) }

// Validate checks timeout ≥ 0, in whole milliseconds.
func (t Timeout) Validate() error { return checkMillis("timeout", t.Timeout, false) }

// Attributes are timeout in whole milliseconds.
func (t Timeout) Attributes() map[string]any { return map[string]any{"timeout": ms(t.Timeout)} }
