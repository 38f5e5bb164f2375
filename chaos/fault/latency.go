package fault

import "time"

// Latency delays data by Latency ± Jitter (Toxiproxy "latency").
type Latency struct {
	// Latency is the added delay (required, > 0, whole milliseconds).
	Latency time.Duration `yaml:"latency" json:"latency" jsonschema:"required"`
	// Jitter is the ± random spread around Latency (default 0; at most
	// Latency).
	Jitter time.Duration `yaml:"jitter" json:"jitter,omitempty"`
}

func init() { Register("latency", Latency{}) }

// Validate checks latency > 0 and 0 ≤ jitter ≤ latency, in whole ms.
func (l Latency) Validate() error {
	if err := checkMillis("latency", l.Latency, true); err != nil {
		return err
	}
	if err := checkMillis("jitter", l.Jitter, false); err != nil {
		return err
	}
	if l.Jitter > l.Latency {
		return Errorf("jitter", "must not exceed latency (%s), got %s", l.Latency, l.Jitter)
	}
	return nil
}

// Attributes are latency and jitter in whole milliseconds.
func (l Latency) Attributes() map[string]any {
	return map[string]any{"latency": ms(l.Latency), "jitter": ms(l.Jitter)}
}
