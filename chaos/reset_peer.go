package chaos

import (
	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// resetPeerKind resets the TCP connection (RST) once data arrives, after
// Timeout (Toxiproxy "reset_peer"). Profile field: timeout (optional; 0 resets
// at once). Toxiproxy attribute: timeout in whole milliseconds.
type resetPeerKind struct{}

func init() { Register(resetPeerKind{}) }

func (resetPeerKind) Name() string { return "reset_peer" }

func (resetPeerKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "timeout"); err != nil {
		return err
	}
	return checkMillis("timeout", f.Timeout, false)
}

func (resetPeerKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "reset_peer", client.Attributes{"timeout": ms(f.Timeout)}
}
