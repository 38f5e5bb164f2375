package chaos

import (
	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// timeoutKind stops all data and closes the connection after Timeout
// (Toxiproxy "timeout"). Profile field: timeout (optional; 0 holds the
// connection open, silent, for as long as the fault stays). Toxiproxy
// attribute: timeout in whole milliseconds.
type timeoutKind struct{}

func init() { Register(timeoutKind{}) }

func (timeoutKind) Name() string { return "timeout" }

func (timeoutKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "timeout"); err != nil {
		return err
	}
	return checkMillis("timeout", f.Timeout, false)
}

func (timeoutKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "timeout", client.Attributes{"timeout": ms(f.Timeout)}
}
