package chaos

import (
	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// slowCloseKind delays the close of the connection by Delay after the other
// side closed (Toxiproxy "slow_close"). Profile field: delay (required, > 0).
// Toxiproxy attribute: delay in whole milliseconds.
type slowCloseKind struct{}

func init() { Register(slowCloseKind{}) }

func (slowCloseKind) Name() string { return "slow_close" }

func (slowCloseKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "delay"); err != nil {
		return err
	}
	return checkMillis("delay", f.Delay, true)
}

func (slowCloseKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "slow_close", client.Attributes{"delay": ms(f.Delay)}
}
