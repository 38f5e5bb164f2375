package profiles_test

// The JSON Schema describes the registered checkers' fields: linking the
// invariants package registers them (invariants.Register calls
// profiles.RegisterCheckerSchema), so that this package's schema tests see
// what `collide schema` prints.
import _ "github.com/collide-dev/collide/invariants"
