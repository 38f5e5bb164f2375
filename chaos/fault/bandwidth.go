package fault

// Bandwidth limits throughput to Rate KB/s (Toxiproxy "bandwidth").
type Bandwidth struct {
	// Rate is the bandwidth limit in KB/s, 1 KB = 1000 bytes as Toxiproxy
	// counts (required, > 0).
	Rate int64 `yaml:"rate" json:"rate" jsonschema:"required"`
}

func init() { Register("bandwidth", Bandwidth{}) }

// Validate checks rate > 0.
func (b Bandwidth) Validate() error {
	if b.Rate <= 0 {
		return Errorf("rate", "must be > 0 (KB/s), got %d", b.Rate)
	}
	return nil
}

// Attributes are rate in KB/s.
func (b Bandwidth) Attributes() map[string]any { return map[string]any{"rate": b.Rate} }
