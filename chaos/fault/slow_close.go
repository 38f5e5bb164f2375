package fault

import "time"

// SlowClose delays the close of the connection by Delay after the other
// side closed (Toxiproxy "slow_close").
type SlowClose struct {
	// Delay is the delay before the socket is closed (required, > 0, whole
	// milliseconds).
	Delay time.Duration `yaml:"delay" json:"delay" jsonschema:"required"`
}

func init() { Register("slow_close", SlowClose{}) }

// Validate checks delay > 0, in whole milliseconds.
func (s SlowClose) Validate() error { return checkMillis("delay", s.Delay, true) }

// Attributes are delay in whole milliseconds.
func (s SlowClose) Attributes() map[string]any { return map[string]any{"delay": ms(s.Delay)} }
