package fault

import "regexp"

// Scopes of CutAfterStatement: what its statements are counted in.
const (
	ScopeConnection  = "connection"  // each connection of the service to the database
	ScopeTransaction = "transaction" // each transaction (statements outside one are not counted)
)

// CutAfterStatement closes the service's database connection right after
// the response to the After-th statement (of those matching Match) of a
// connection or of a transaction: that statement succeeds, the next one
// fails with a connection error, and an open transaction is rolled back. It
// is no Toxiproxy toxic but a fault of collide's SQL wire-protocol tap
// (package chaos/tap), so it applies to every connection (toxicity is not
// read) and only on the database link of a database whose wire protocol the
// tap decodes (PostgreSQL, MySQL/MariaDB).
type CutAfterStatement struct {
	// After is the number of the statement after which the connection is
	// cut, counted from 1 in each connection or transaction (default 1).
	After int `yaml:"after" json:"after"`
	// Match is a regular expression (Go syntax, e.g. "(?i)^insert"): only
	// statements whose text matches count (default: every statement).
	Match string `yaml:"match" json:"match,omitempty"`
	// Scope is what statements are counted in: "connection" (default) or
	// "transaction" (statements outside a transaction are not counted).
	Scope string `yaml:"scope" json:"scope" jsonschema:"enum=connection,enum=transaction"`
	// Every cuts every connection or transaction that reaches After while
	// the fault is in effect; false (default) cuts once per window.
	Every bool `yaml:"every" json:"every,omitempty"`
}

func init() {
	Register("cut_after_statement", CutAfterStatement{After: 1, Scope: ScopeConnection})
}

// Validate checks after ≥ 1, that match compiles and the scope.
func (c CutAfterStatement) Validate() error {
	if c.After < 1 {
		return Errorf("after", "must be ≥ 1 (the statement to cut after), got %d", c.After)
	}
	if _, err := c.Regexp(); err != nil {
		return Errorf("match", "%v", err)
	}
	if c.Scope != ScopeConnection && c.Scope != ScopeTransaction {
		return Errorf("scope", "invalid scope %q (want %s or %s)", c.Scope, ScopeConnection, ScopeTransaction)
	}
	return nil
}

// Regexp is Match compiled; nil when Match is empty.
func (c CutAfterStatement) Regexp() (*regexp.Regexp, error) {
	if c.Match == "" {
		return nil, nil
	}
	return regexp.Compile(c.Match)
}

// Attributes are the fields as written, for the timeline.
func (c CutAfterStatement) Attributes() map[string]any {
	return map[string]any{"after": c.After, "match": c.Match, "scope": c.Scope, "every": c.Every}
}

// Wire marks the kind as a fault of the SQL wire-protocol tap.
func (CutAfterStatement) Wire() {}
