package chaos

// The fault kinds (latency, reset_peer …) — their fields, defaults, checks
// and toxic attributes — are registered by name in package chaos/fault, one
// file each; a profiles.Fault gives its kind and checked fields by Spec.

// Link names a fault may use in a profile.
const (
	LinkTarget   = "target"   // attacker → service under test
	LinkDatabase = "database" // service → database
)

// Toxiproxy stream directions.
const (
	Downstream = "downstream" // data flowing from upstream back to the client (default)
	Upstream   = "upstream"   // data flowing from the client to upstream
)
