package fault

// LimitData closes the connection once Bytes bytes have passed in the
// fault's stream direction (Toxiproxy "limit_data").
type LimitData struct {
	// Bytes is the number of bytes passed before the connection is closed
	// (required, > 0).
	Bytes int64 `yaml:"bytes" json:"bytes" jsonschema:"required"`
}

func init() { Register("limit_data", LimitData{}) }

// Validate checks bytes > 0.
func (l LimitData) Validate() error {
	if l.Bytes <= 0 {
		return Errorf("bytes", "must be > 0, got %d", l.Bytes)
	}
	return nil
}

// Attributes are bytes.
func (l LimitData) Attributes() map[string]any { return map[string]any{"bytes": l.Bytes} }
