package chaos

import (
	"fmt"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// limitDataKind closes the connection once Bytes bytes have passed in the
// fault's stream direction (Toxiproxy "limit_data"). Profile field: bytes
// (required, > 0). Toxiproxy attribute: bytes.
type limitDataKind struct{}

func init() { Register(limitDataKind{}) }

func (limitDataKind) Name() string { return "limit_data" }

func (limitDataKind) Validate(f profiles.Fault) error {
	if err := onlyFields(f, "bytes"); err != nil {
		return err
	}
	if f.Bytes <= 0 {
		return fmt.Errorf("bytes: must be > 0, got %d", f.Bytes)
	}
	return nil
}

func (limitDataKind) Toxic(f profiles.Fault) (string, client.Attributes) {
	return "limit_data", client.Attributes{"bytes": f.Bytes}
}
