package chaos

import (
	"fmt"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// bandwidthKind limits throughput to Rate KB/s (Toxiproxy "bandwidth").
// Profile field: rate (required, > 0, in KB/s, 1 KB = 1000 bytes as
// Toxiproxy counts). Toxiproxy attribute: rate in KB/s.
type bandwidthKind struct{}

func init() { Register(bandwidthKind{}) }

func (bandwidthKind) Name() string { return "bandwidth" }

func (bandwidthKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "rate"); err != nil {
		return err
	}
	if f.Rate <= 0 {
		return fmt.Errorf("rate: must be > 0 (KB/s), got %d", f.Rate)
	}
	return nil
}

func (bandwidthKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "bandwidth", client.Attributes{"rate": f.Rate}
}
