package invariants

import (
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/profiles"
)

// TestInvariantHistoryFields covers the fields of the history-aware
// checkers, each decoded by its checker from a parsed profile: they decode,
// and the rules (operations that exist, finite positive numbers, no unknown
// field) give errors with the file, the field's path and line.
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
  - name: no lost update
    check: no_lost_update
    query: SELECT id, version FROM docs
    op: edit.write
    version_from: version
`
	p, err := profiles.Parse("fields.yaml", []byte(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []Checker
	for i, inv := range p.Invariants {
		c, err := New(inv)
		if err != nil {
			t.Fatalf("invariants[%d]: %v", i, err)
		}
		cs = append(cs, c)
	}
	counter, lin, locks := cs[0].(*counterChecker), cs[1].(*linearizableChecker), cs[2].(*locksChecker)
	debits, one := cs[3].(*boundedDebitsChecker), cs[4].(*exactlyOneChecker)
	if counter.op != "incr" || counter.step.RatString() != "2" || lin.readOp != "get" || lin.writeOp != "incr" ||
		lin.valueFrom != "seq" || lin.readFrom != "value" || lin.timeout != 3*time.Second ||
		locks.group != "key" || locks.ttl != 500*time.Millisecond || locks.slack != 100*time.Millisecond ||
		debits.amount.FloatString(1) != "2.5" || debits.floor == nil || debits.floor.Sign() != 0 || debits.w.unit != "units of stock" || debits.w.thing != "product" ||
		!one.require || p.Invariants[5].Fields.Text("version_from") != "version" {
		t.Errorf("decoded %+v %+v %+v %+v %+v", counter, lin, locks, debits, one)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown op", "  - {name: x, check: counter, query: SELECT 1, op: incrr}\n", `fields.yaml:19: invariants[0].op: unknown operation "incrr" (did you mean "incr"? operations: incr, get, edit, edit.read, edit.write)`},
		{"unknown write_op", "  - {name: x, check: linearizable, read_op: get, write_op: put}\n", `fields.yaml:19: invariants[0].write_op: unknown operation "put"`},
		{"negative amount", "  - {name: x, check: bounded_debits, query: SELECT 1, op: incr, amount: -1}\n", "fields.yaml:19: invariants[0].amount: must be a positive number"},
		{"NaN step", "  - {name: x, check: counter, query: SELECT 1, op: incr, step: .nan}\n", "fields.yaml:19: invariants[0].step: must be a finite number"},
		{"negative ttl", "  - {name: x, check: locks, op: incr, ttl: -1s}\n", "negative duration"},
		{"typo of an own field", "  - {name: x, check: counter, query: SELECT 1, op: incr, stepp: 1}\n", `invariants[0].stepp: unknown field (did you mean "step"?)`},
		{"typo of a common field", "  - {name: x, check: counter, query: SELECT 1, op: incr, units: cents}\n", `invariants[0].units: unknown field (did you mean "unit"?)`},
		{"typo of thing", "  - {name: x, check: counter, query: SELECT 1, op: incr, thin: product}\n", `invariants[0].thin: unknown field (did you mean "thing"?)`},
		{"another checker's field", "  - name: x\n    check: counter\n    query: SELECT 1\n    op: incr\n    ttl: 1s\n", `fields.yaml:23: invariants[0].ttl: ttl is not read by checker counter (its own fields: step, value_from, per_key, group)`},
		{"wrong type", "  - {name: x, check: exactly_one, op: incr, require: maybe}\n", `fields.yaml:19: invariants[0].require: want true or false, got "maybe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parseAndBuild(base + tc.yaml)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// parseAndBuild parses a profile and builds its checkers, returning the
// first error.
func parseAndBuild(yaml string) error {
	p, err := profiles.Parse("fields.yaml", []byte(yaml), nil)
	if err != nil {
		return err
	}
	for _, inv := range p.Invariants {
		if _, err := New(inv); err != nil {
			return err
		}
	}
	return nil
}
