package tap

import (
	"fmt"
	"regexp"
)

// Scope says what a Cut counts statements in.
type Scope int

const (
	// PerConn counts the statements of each client connection.
	PerConn Scope = iota
	// PerTxn counts the statements of each transaction (statements outside a
	// transaction are not counted).
	PerTxn
)

// Cut is the statement-boundary fault: once the After-th statement matching
// Match (all statements when nil) of a connection (Scope PerConn) or of a
// transaction (PerTxn) completes, the tap forwards the rest of that
// statement's response cycle and closes both sides of the connection (see
// the package doc for where exactly the cut falls). With Every false it fires
// once for the whole Tap; with Every true, in every connection or
// transaction that reaches After.
type Cut struct {
	After int            // N ≥ 1
	Match *regexp.Regexp // only statements whose text matches count; nil: all
	Scope Scope
	Every bool
}

func (c *Cut) validate() error {
	if c.After < 1 {
		return fmt.Errorf("tap: Cut.After is %d, want ≥ 1", c.After)
	}
	if c.Scope != PerConn && c.Scope != PerTxn {
		return fmt.Errorf("tap: Cut.Scope %d unknown", c.Scope)
	}
	return nil
}

// cutCounter is one connection's progress towards a Cut.
type cutCounter struct {
	n       int
	txn     int  // the transaction being counted (PerTxn)
	hit     bool // this connection already fired (PerConn)
	hitTxns int  // last transaction that fired (PerTxn)
}

// complete counts a finished statement and reports whether the cut must fire
// after it. once is the Tap-wide "already fired" flag for Every=false.
func (c *Cut) complete(cc *cutCounter, s *Statement, tryFireOnce func() bool) bool {
	if c.Match != nil && !c.Match.MatchString(s.Text) {
		return false
	}
	switch c.Scope {
	case PerConn:
		if cc.hit {
			return false
		}
	case PerTxn:
		if !s.InTxn {
			return false
		}
		if s.TxnID != cc.txn {
			cc.txn, cc.n = s.TxnID, 0
		}
		if cc.hitTxns == s.TxnID {
			return false
		}
	}
	cc.n++
	if cc.n != c.After {
		return false
	}
	if !c.Every && !tryFireOnce() {
		return false
	}
	cc.hit, cc.hitTxns = true, s.TxnID
	return true
}
