package profiles

import (
	"strings"
	"testing"
	"time"
)

// TestInvariantHistoryFields covers the fields of the history-aware
// checkers (invariants package): they decode, and the profile-level rules
// (operations that exist, finite positive numbers) give errors with the
// field's path and line. Per-checker rules are the checkers' own.
func TestInvariantHistoryFields(t *testing.T) {
	const base = `name: fields
target:
  demo: {mode: safe}
database:
  driver: sqlite
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    duration: 1s
  - name: get
    request: {method: GET, url: /counters/1}
    duration: 1s
  - name: edit
    duration: 1s
    flow:
      - {name: read, request: {method: GET, url: /docs/1}, capture: {version: version}}
      - {name: write, request: {method: PUT, url: /docs/1, body: '{"version": {{version}}}'}}
invariants:
`
	good := base + `  - name: every increment counted
    check: counter
    query: SELECT value FROM counters WHERE id = 1
    op: incr
    step: 2
  - name: register
    check: linearizable
    read_op: get
    write_op: incr
    value_from: seq
    read_from: value
    timeout: 3s
  - name: lock
    check: locks
    op: incr
    group: key
    ttl: 500ms
    slack: 100ms
  - name: debits
    check: bounded_debits
    query: SELECT value FROM counters WHERE id = 1
    op: incr
    amount: 2.5
    floor: 0
    unit: units of stock
    thing: product
  - name: one winner
    check: exactly_one
    op: incr
    require: true
    version_from: seq
  - name: no lost update
    check: no_lost_update
    query: SELECT id, version FROM docs
    op: edit.write
    version_from: version
`
	p, err := Parse("fields.yaml", []byte(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := p.Invariants
	if inv[0].Op != "incr" || inv[0].Step != 2 || inv[1].ReadOp != "get" || inv[1].WriteOp != "incr" ||
		inv[1].ValueFrom != "seq" || inv[1].ReadFrom != "value" || inv[1].Timeout.D() != 3*time.Second ||
		inv[2].Group != "key" || inv[2].TTL.D() != 500*time.Millisecond || inv[2].Slack.D() != 100*time.Millisecond ||
		inv[3].Amount != 2.5 || inv[3].Floor == nil || *inv[3].Floor != 0 || inv[3].Unit != "units of stock" || inv[3].Thing != "product" || !inv[4].Require || inv[4].VersionFrom != "seq" {
		t.Errorf("decoded %+v", inv)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"  - {name: x, check: counter, query: SELECT 1, op: incrr}\n", `fields.yaml:19: invariants[0].op: unknown operation "incrr" (did you mean "incr"? operations: incr, get, edit, edit.read, edit.write)`},
		{"  - {name: x, check: linearizable, read_op: get, write_op: put}\n", `invariants[0].write_op: unknown operation "put"`},
		{"  - {name: x, check: bounded_debits, query: SELECT 1, op: incr, amount: -1}\n", "invariants[0].amount: must be a positive number"},
		{"  - {name: x, check: counter, query: SELECT 1, op: incr, step: .nan}\n", "invariants[0].step: must be a finite number"},
		{"  - {name: x, check: locks, op: incr, ttl: -1s}\n", "negative duration"},
		{"  - {name: x, check: counter, query: SELECT 1, op: incr, stepp: 1}\n", "stepp"},
		{"  - {name: x, check: counter, query: SELECT 1, op: incr, units: cents}\n", `invariants[0].units: unknown field (did you mean "unit"?)`},
		{"  - {name: x, check: counter, query: SELECT 1, op: incr, thin: product}\n", `invariants[0].thin: unknown field (did you mean "thing"?)`},
	} {
		_, err := Parse("fields.yaml", []byte(base+tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", strings.TrimSpace(tc.yaml), err, tc.want)
		}
	}
}
