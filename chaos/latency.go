package chaos

import (
	"fmt"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// latencyKind delays data by Latency ± Jitter (Toxiproxy "latency").
// Profile fields: latency (required, > 0), jitter (optional, ≤ latency).
// Toxiproxy attributes: latency and jitter in whole milliseconds.
type latencyKind struct{}

func init() { Register(latencyKind{}) }

func (latencyKind) Name() string { return "latency" }

func (latencyKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "latency", "jitter"); err != nil {
		return err
	}
	if err := checkMillis("latency", f.Latency, true); err != nil {
		return err
	}
	if err := checkMillis("jitter", f.Jitter, false); err != nil {
		return err
	}
	if f.Jitter > f.Latency {
		return fmt.Errorf("jitter: must not exceed latency (%s), got %s", f.Latency, f.Jitter)
	}
	return nil
}

func (latencyKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "latency", client.Attributes{"latency": ms(f.Latency), "jitter": ms(f.Jitter)}
}
