package invariants

import (
	"strconv"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// historyCheckCases prove the history-aware checkers both ways on every SQL
// database: a violating state fails with its anomaly and evidence, a valid
// one passes, unknown outcomes widen the bound where the strict rule (count
// only ok ops) would fail, and a check that cannot look is an error.

const (
	hOK   = history.OK
	hFail = history.Fail
	hUnk  = history.Unknown
)

func with(inv flatInv, f func(*flatInv)) flatInv {
	f(&inv)
	return inv
}

func ptrTo[T any](v T) *T { return &v }

var (
	counterInv = flatInv{Name: "every increment counted once", Check: "counter", Query: `SELECT value FROM counters WHERE id = 1`, Op: "incr"}

	accountsSetup = []string{`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT)`, `INSERT INTO accounts (id, balance) VALUES (1, 100), (2, 50)`}
	conservedInv  = flatInv{Name: "transfers conserve money", Check: "conservation", Query: `SELECT sum(balance) AS total FROM accounts`}
	debitInv      = flatInv{Name: "debits add up", Check: "bounded_debits", Query: `SELECT balance FROM accounts WHERE id = 1`, Op: "debit", Amount: 10}
	nonNegInv     = flatInv{Name: "no overdraft", Check: "never_negative", Query: `SELECT id, balance FROM accounts ORDER BY id`}

	orderOps = []hOp{
		hop(1, "submit", "order-1", hOK, 0, 30).status(201),
		hop(2, "submit", "order-1", hFail, 1, 20),
		hop(3, "submit", "order-1", hFail, 2, 20),
		hop(4, "submit", "order-2", hOK, 0, 10).status(201),
	}
	exactlyOneInv = flatInv{Name: "one order per key", Check: "exactly_one", Op: "submit"}

	resultsSetup = []string{`CREATE TABLE results (k VARCHAR(20) PRIMARY KEY, seq INTEGER)`, `INSERT INTO results (k, seq) VALUES ('asset-1', 0), ('asset-2', 0), ('asset-3', 0)`}
	newestInv    = flatInv{Name: "newest job wins", Check: "newest_wins", Query: `SELECT k, seq FROM results`, Op: "regen"}
	regenOps     = []hOp{
		hop(1, "regen", "asset-1", hOK, 0, 100).val("seq", "1"),   // slow, finishes last
		hop(2, "regen", "asset-1", hOK, 10, 20).val("seq", "2"),   // newer, finishes first
		hop(3, "regen", "asset-1", hUnk, 40, 500).val("seq", "3"), // newest, answer lost
		hop(4, "regen", "asset-2", hOK, 0, 10).val("seq", "4"),
		hop(5, "regen", "asset-2", hFail, 5, 10).val("seq", "5"),
	}

	docsSetup = []string{`CREATE TABLE docs (id INTEGER PRIMARY KEY, version INTEGER)`, `INSERT INTO docs (id, version) VALUES (1, 5), (2, 5)`}
	noLostInv = flatInv{Name: "no silent overwrite", Check: "no_lost_update", Query: `SELECT id, version FROM docs`, Op: "save"}
	save      = func(id uint64, out history.Outcome, at int) hOp {
		return hop(id, "save", "1", out, at, 10).val("version", "5")
	}
	itemsSetup = []string{`CREATE TABLE items (id VARCHAR(40))`, `INSERT INTO items (id) VALUES ('seed-1')`}
	presentInv = flatInv{Name: "every add kept", Check: "all_present", Query: `SELECT id FROM items`, Op: "add", ValueFrom: "uuid"}
	addOps     = []hOp{
		hop(1, "add", "p-1", hOK, 0, 10).val("uuid", "u-1"),
		hop(2, "add", "p-1", hOK, 1, 10).val("uuid", "u-2"),
		hop(3, "add", "p-1", hOK, 2, 10).val("uuid", "u-3"),
		hop(4, "add", "p-1", hUnk, 3, 500).val("uuid", "u-4"),
		hop(5, "add", "p-1", hFail, 4, 10).val("uuid", "u-5"),
	}
	locksInv = flatInv{Name: "one holder at a time", Check: "locks", Op: "hold", TTL: profiles.Duration(200 * time.Millisecond), Slack: profiles.Duration(100 * time.Millisecond)}
	linInv   = flatInv{Name: "register is linearizable", Check: "linearizable", ReadOp: "get", WriteOp: "put"}
)

func counterCase(name, after string, tally map[string]counts, want Verdict) checkCase {
	return checkCase{name: name, inv: counterInv, setup: counterAt("100"), attack: []string{`UPDATE counters SET value = ` + after + ` WHERE id = 1`}, tally: tally, want: want}
}

func debitCase(name, after string, tally map[string]counts, want Verdict, anomaly, actual string) checkCase {
	return checkCase{name: name, inv: debitInv, setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = ` + after + ` WHERE id = 1`}, tally: tally, want: want, wantAnomaly: anomaly, wantActual: actual}
}

// holdOp is an op of the lock endpoint: ok ops capture the server's
// acquire and release times (ms after t0) and a token; rejections are 423.
// unkeyed drops an op's key, as in a profile that names none.
func unkeyed(o hOp) hOp { o.Key = ""; return o }

func holdOp(id uint64, out history.Outcome, at, took, acq, rel int, token string) hOp {
	o := hop(id, "hold", "lock-1", out, at, took)
	switch out {
	case hOK:
		o = o.capt("acquired_at", t0.Add(time.Duration(acq)*time.Millisecond).Format(time.RFC3339Nano)).
			capt("released_at", t0.Add(time.Duration(rel)*time.Millisecond).Format(time.RFC3339Nano)).
			capt("token", token).capt("holder", "w"+strconv.FormatUint(id, 10))
	case hFail:
		o = o.status(423)
	}
	return o
}

func put(id uint64, out history.Outcome, at, took int, v string) hOp {
	return hop(id, "put", "k", out, at, took).val("seq", v)
}

func get(id uint64, at, took int, v any) hOp {
	return hop(id, "get", "k", hOK, at, took).capt("value", v)
}

var historyCheckCases = []checkCase{
	// counter (RC-006): ok ≤ Δ ≤ ok + unknown.
	func() checkCase {
		c := counterCase("counter passes inside [ok, ok+unknown]", "110", incr8ok3unknown, Pass)
		c.wantActual = "after − before = +10 (110 − 100); incr: 8 ok, 2 fail, 3 unknown"
		return c
	}(),
	counterCase("counter unknown ops widen the bound (ok alone would fail)", "111", incr8ok3unknown, Pass),
	func() checkCase {
		c := counterCase("counter below ok is a lost update", "105", incr8ok3unknown, Fail)
		c.wantAnomaly, c.wantActual = "lost update", "3 acknowledged increments missing"
		c.wantEvidence = []string{"before the attack: value=100", "after: value=105", "incr: 8 ok, 2 fail, 3 unknown"}
		return c
	}(),
	func() checkCase {
		c := counterCase("counter above ok+unknown is a double apply", "112", incr8ok3unknown, Fail)
		c.wantAnomaly, c.wantActual = "phantom increments / double apply", "1 increment more than the ok and unknown ops could make"
		return c
	}(),
	{
		name: "counter with a step", inv: with(counterInv, func(i *flatInv) { i.Step = 5 }),
		setup: counterAt("100"), attack: []string{`UPDATE counters SET value = 135 WHERE id = 1`}, tally: map[string]counts{"incr": {8, 0, 0}},
		want: Fail, wantAnomaly: "lost update", wantActual: "1 acknowledged increment missing",
	},
	{
		name:  "counter compares decimals exactly",
		inv:   flatInv{Name: "cents", Check: "counter", Query: `SELECT v FROM wallet`, Op: "tip", Step: 0.1},
		setup: []string{`CREATE TABLE wallet (v DOUBLE PRECISION)`, `INSERT INTO wallet VALUES (0.2)`}, attack: []string{`UPDATE wallet SET v = 0.5`},
		tally: map[string]counts{"tip": {3, 0, 0}}, want: Pass, wantActual: "after − before = +0.3 (0.5 − 0.2)",
	},
	{
		name: "counter amounts from each op (value_from)", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("100"), attack: []string{`UPDATE counters SET value = 104 WHERE id = 1`},
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("n", "2"), hop(2, "incr", "", hOK, 1, 5).val("n", "3"), hop(3, "incr", "", hUnk, 2, 5).val("n", "4"), hop(4, "incr", "", hFail, 3, 5).val("n", "100")},
		want: Fail, wantAnomaly: "lost update", wantActual: "acknowledged increments worth 1 missing",
	},
	{
		name: "counter amounts from each op within the bound", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("100"), attack: []string{`UPDATE counters SET value = 109 WHERE id = 1`},
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("n", "2"), hop(2, "incr", "", hOK, 1, 5).val("n", "3"), hop(3, "incr", "", hUnk, 2, 5).val("n", "4")},
		want: Pass,
	},
	{
		// Integral amounts take the int64 path, the rest big.Rat: the
		// sum must be exact across both and across the 2^40 boundary.
		name: "counter amounts mixing integers, decimals and huge values", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("0"), attack: []string{`UPDATE counters SET value = 1099511627778 WHERE id = 1`},
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("n", "0.5"), hop(2, "incr", "", hOK, 1, 5).val("n", "1.5"), hop(3, "incr", "", hOK, 2, 5).val("n", "1099511627776"),
			hop(4, "incr", "", hOK, 3, 5).val("n", "010"), hop(5, "incr", "", hOK, 4, 5).val("n", "-10")},
		want: Pass,
	},
	{
		name: "counter amounts mixing integers and decimals, one short", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("0"), attack: []string{`UPDATE counters SET value = 1 WHERE id = 1`},
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("n", "0.5"), hop(2, "incr", "", hOK, 1, 5).val("n", "2"), hop(3, "incr", "", hUnk, 2, 5).val("n", "-1")},
		want: Fail, wantAnomaly: "lost update", wantActual: "acknowledged increments worth 0.5 missing",
	},
	{
		name: "counter amount that is not a number is an error", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("0"), hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("n", "1"), hop(2, "incr", "", hOK, 1, 5).val("n", "ten")},
		want: Error, wantError: `op #2 of "incr": n "ten" is not a number`,
	},
	{
		name: "counter op without the amount is an error", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("0"), hist: []hOp{hop(1, "incr", "", hOK, 0, 5).val("m", "1")},
		want: Error, wantError: `op #1 (ok) of "incr" has no value or capture "n"`,
	},
	{
		// The amount is captured from the answer: a cut response loses it,
		// the bound is open, and the check can only be inconclusive — not
		// an error, not a guess (issue 14).
		name: "counter unknown op that lost its amount leaves the bound open", inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }),
		setup: counterAt("100"), attack: []string{`UPDATE counters SET value = 150 WHERE id = 1`},
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5).capt("n", 2), hop(2, "incr", "", hUnk, 1, 5)},
		want: Unknown, wantActual: "inconclusive: 1 unknown request carried no n",
	},
	{
		name: "bounded_debits unknown debit that lost its amount: the floor still judges", inv: with(debitInv, func(i *flatInv) { i.Amount, i.ValueFrom, i.Floor = 0, "amount", ptrTo(0.0) }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = -20 WHERE id = 1`},
		hist: []hOp{hop(1, "debit", "1", hOK, 0, 5).capt("amount", 60), hop(2, "debit", "1", hOK, 1, 5).capt("amount", 60), hop(3, "debit", "1", hUnk, 2, 5)},
		want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantActual: "balance fell 20 below 0",
	},
	{
		name: "bounded_debits unknown debit that lost its amount leaves the bound open", inv: with(debitInv, func(i *flatInv) { i.Amount, i.ValueFrom, i.Floor = 0, "amount", ptrTo(0.0) }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 10 WHERE id = 1`},
		hist: []hOp{hop(1, "debit", "1", hOK, 0, 5).capt("amount", 60), hop(2, "debit", "1", hUnk, 2, 5)},
		want: Unknown, wantActual: "inconclusive: 1 unknown request carried no amount",
	},
	{name: "counter without Prepare is an error", inv: counterInv, setup: counterAt("1"), tally: incr8ok3unknown, skipPrepare: true, want: Error, wantError: "Prepare"},
	{name: "counter query error is an error", inv: counterInv, setup: counterAt("1"), attack: []string{`DROP TABLE counters`}, tally: incr8ok3unknown, want: Error, wantError: "counters"},
	{name: "counter on a closed database is an error", inv: counterInv, setup: counterAt("1"), tally: incr8ok3unknown, closeDB: true, want: Error},
	{
		name: "counter query of several rows is an error", inv: with(counterInv, func(i *flatInv) { i.Query = `SELECT value FROM counters` }),
		setup: []string{counterSetup, `INSERT INTO counters VALUES (1, 1), (2, 2)`}, tally: incr8ok3unknown,
		prepareErr: "2 rows", want: Error, wantError: "2 rows",
	},
	{
		name: "counter NULL is an error", inv: with(counterInv, func(i *flatInv) { i.Query = `SELECT sum(value) AS value FROM counters` }),
		setup: []string{counterSetup}, tally: incr8ok3unknown, prepareErr: "COALESCE", want: Error, wantError: "NULL",
	},
	{name: "counter unknown operation is an error", inv: with(counterInv, func(i *flatInv) { i.Op = "incrr" }), setup: counterAt("1"), tally: incr8ok3unknown, want: Error, wantError: `unknown operation "incrr"`},
	{name: "new counter without op", inv: flatInv{Check: "counter", Query: "SELECT 1"}, newErr: "op is required by checker counter"},
	{name: "new counter step and value_from", inv: with(counterInv, func(i *flatInv) { i.Step, i.ValueFrom = 2, "n" }), newErr: "not both"},
	{name: "new counter with a field it does not read", inv: with(counterInv, func(i *flatInv) { i.Amount = 3 }), newErr: "amount is not read by checker counter"},

	// conservation: the total stays.
	{name: "conservation holds across transfers", inv: conservedInv, setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 70 WHERE id = 1`, `UPDATE accounts SET balance = 80 WHERE id = 2`}, want: Pass, wantActual: "total = 150 (+0 since setup)"},
	{name: "conservation money created", inv: conservedInv, setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 90 WHERE id = 2`}, want: Fail, wantAnomaly: "conserved total created", wantActual: "40 appeared from nowhere"},
	{name: "conservation in the profile's unit", inv: with(conservedInv, func(i *flatInv) { i.Unit = "units of stock" }), setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 90 WHERE id = 2`}, want: Fail, wantAnomaly: "units of stock created", wantActual: "40 units of stock appeared from nowhere"},
	{
		name: "conservation money destroyed", inv: conservedInv, setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 60 WHERE id = 1`}, want: Fail, wantAnomaly: "conserved total destroyed",
		wantActual: "total = 110 (-40 since setup): 40 vanished", wantEvidence: []string{"before the attack: total=150", "after: total=110"},
	},
	{name: "conservation query error is an error", inv: conservedInv, setup: accountsSetup, attack: []string{`DROP TABLE accounts`}, want: Error, wantError: "accounts"},
	{name: "new conservation without query", inv: flatInv{Check: "conservation"}, newErr: "query is required"},

	// never_negative.
	{name: "never_negative passes", inv: nonNegInv, setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 0 WHERE id = 1`}, want: Pass, wantActual: "2 rows, none negative"},
	{
		name: "never_negative finds overdrafts, most negative first", inv: nonNegInv, setup: accountsSetup,
		attack: []string{`UPDATE accounts SET balance = -5 WHERE id = 1`, `INSERT INTO accounts VALUES (3, -20), (4, NULL)`},
		want:   Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantActual: "2 of 4 rows negative, lowest -20",
		wantEvidence: []string{"id=3 balance=-20", "id=1 balance=-5"},
	},
	{
		name: "never_negative on one column", inv: with(nonNegInv, func(i *flatInv) { i.Query = `SELECT balance FROM accounts` }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = -1 WHERE id = 2`}, want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantEvidence: []string{"balance=-1"},
	},
	{name: "never_negative text is an error", inv: with(nonNegInv, func(i *flatInv) { i.Query = `SELECT id, 'abc' AS balance FROM accounts` }), setup: accountsSetup, want: Error, wantError: "not a number"},
	{name: "never_negative query error is an error", inv: nonNegInv, want: Error, wantError: "accounts"},

	// bounded_debits: before − Σ(ok+unknown) ≤ after ≤ before − Σok.
	debitCase("bounded_debits every acknowledged debit applied", "50", map[string]counts{"debit": {5, 7, 2}}, Pass, "", "balance = 50 (-50 since setup); debit: 5 ok, 7 fail, 2 unknown, 5 debits acknowledged (50 units)"),
	debitCase("bounded_debits unknown debits widen the bound (ok alone would fail)", "30", map[string]counts{"debit": {5, 7, 2}}, Pass, "", ""),
	debitCase("bounded_debits debit lost", "60", map[string]counts{"debit": {5, 7, 2}}, Fail, "lost update (acknowledged debits missing)", "1 acknowledged debit missing from the balance"),
	debitCase("bounded_debits debit applied twice", "20", map[string]counts{"debit": {5, 7, 2}}, Fail, "phantom debits / double apply", "1 debit more taken than the ok and unknown ops could take"),
	{
		name: "bounded_debits oversell below the floor", inv: with(debitInv, func(i *flatInv) { i.Floor = ptrTo(0.0) }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = -20 WHERE id = 1`}, tally: map[string]counts{"debit": {12, 38, 0}},
		want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantActual: "balance fell 20 below 0; 2 debits acknowledged beyond the 100 available (20 oversold)",
	},
	{
		name: "bounded_debits oversell hidden by a lost update", inv: with(debitInv, func(i *flatInv) { i.Floor = ptrTo(0.0) }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 0 WHERE id = 1`}, tally: map[string]counts{"debit": {12, 38, 0}},
		want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)", wantActual: "2 debits acknowledged beyond the 100 available (20 oversold); 2 acknowledged debits missing from the balance",
	},
	{
		name: "bounded_debits sold out exactly", inv: with(debitInv, func(i *flatInv) { i.Floor = ptrTo(0.0) }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 0 WHERE id = 1`}, tally: map[string]counts{"debit": {10, 40, 0}}, want: Pass,
	},
	{
		name: "bounded_debits amounts from each op", inv: with(debitInv, func(i *flatInv) { i.Amount, i.ValueFrom = 0, "amount" }),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = 60 WHERE id = 1`},
		hist: []hOp{hop(1, "debit", "1", hOK, 0, 5).val("amount", "25"), hop(2, "debit", "1", hOK, 1, 5).val("amount", "15"), hop(3, "debit", "1", hFail, 2, 5).val("amount", "90")},
		want: Pass, wantActual: "2 debits acknowledged (40 units)",
	},
	{
		// Domain words: a stock oversell reads in units of stock, per
		// product, and counts debits apart from the units they took.
		name: "bounded_debits oversell in the profile's words", inv: with(debitInv, func(i *flatInv) {
			i.Floor, i.Amount, i.Unit, i.Thing = ptrTo(0.0), 2, "units of stock", "product"
		}),
		setup: accountsSetup, attack: []string{`UPDATE accounts SET balance = -4 WHERE id = 1`}, tally: map[string]counts{"debit": {52, 10, 0}},
		want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)",
		wantActual: "52 debits acknowledged (104 units of stock): balance fell 4 units of stock below 0; 2 debits acknowledged beyond the 100 units of stock available (4 units of stock oversold)",
	},
	{
		// Duplicates link the rows to the requests that created them
		// through the value the requests sent (or captured).
		name: "unique names the requests that created the duplicated rows", inv: flatInv{Name: "one order per key", Unique: `SELECT k FROM orders`},
		setup: []string{`CREATE TABLE orders (id INTEGER PRIMARY KEY, k TEXT)`, `INSERT INTO orders (id, k) VALUES (1, 'k-1'), (2, 'k-1'), (3, 'k-2'), (4, 'order-5f0c-aa-1'), (5, 'order-5f0c-aa-1'), (6, 'order-5f0c-aa-1')`},
		hist: []hOp{
			hop(1, "create", "", hOK, 0, 10).val("idem", "k-1"), hop(2, "create", "", hOK, 2, 10).val("idem", "k-1"),
			hop(3, "create", "", hFail, 4, 10).val("idem", "k-1"), hop(4, "create", "", hOK, 30, 10).capt("key", "k-2"),
			hop(5, "create", "", hOK, 40, 10).val("uuid", "5f0c-aa-1"), hop(6, "create", "", hOK, 41, 10).val("uuid", "5f0c-aa-1"),
			hop(7, "create", "", hUnk, 42, 10).val("uuid", "5f0c-aa-1"), hop(8, "create", "", hFail, 43, 10).val("uuid", "5f0c-aa-1"),
		},
		want: Fail, wantActual: "2 duplicated values in 6 rows (3 extra rows)",
	},
	{name: "new bounded_debits negative amount", inv: with(debitInv, func(i *flatInv) { i.Amount = -1 }), newErr: "amount: must be a positive number"},

	// exactly_one (RC-001).
	{name: "exactly_one one winner per key", inv: exactlyOneInv, hist: orderOps, want: Pass, wantActual: "2 keys, 4 requests (2 ok, 2 fail, 0 unknown); no key has more than one winner"},
	{
		name: "exactly_one double submit", inv: exactlyOneInv, hist: append(append([]hOp{}, orderOps...), hop(5, "submit", "order-1", hOK, 3, 40).status(201)),
		want: Fail, wantAnomaly: "double submit (more than one request succeeded for one key)", wantActual: "1 key with more than one winner (1 extra)",
		wantEvidence: []string{`key "order-1": 2 ok — #1 ok 201 03:04:05.000000→03:04:05.030000; #5 ok 201 03:04:05.003000→03:04:05.043000`},
	},
	{
		name: "exactly_one replays with the winner's id are one success", inv: with(exactlyOneInv, func(i *flatInv) { i.ValueFrom = "id" }),
		hist: []hOp{hop(1, "submit", "order-1", hOK, 0, 30).capt("id", 17), hop(2, "submit", "order-1", hOK, 1, 30).capt("id", 17)}, want: Pass,
	},
	{
		name: "exactly_one replays with different ids", inv: with(exactlyOneInv, func(i *flatInv) { i.ValueFrom = "id" }),
		hist: []hOp{hop(1, "submit", "order-1", hOK, 0, 30).capt("id", 17), hop(2, "submit", "order-1", hOK, 1, 30).capt("id", 18)},
		want: Fail, wantAnomaly: "double submit (more than one request succeeded for one key)",
		wantEvidence: []string{`key "order-1": 2 different id values acknowledged — id="17": #1 ok 200 03:04:05.000000→03:04:05.030000 | id="18": #2 ok 200 03:04:05.001000→03:04:05.031000`},
	},
	{
		name: "exactly_one require: nobody won", inv: with(exactlyOneInv, func(i *flatInv) { i.Require = true }),
		hist: append(append([]hOp{}, orderOps...), hop(5, "submit", "order-3", hFail, 0, 5), hop(6, "submit", "order-3", hFail, 0, 5)),
		want: Fail, wantAnomaly: "no request succeeded (every conflicting request was rejected)", wantEvidence: []string{`key "order-3": none of 2 requests succeeded (0 ok, 2 fail, 0 unknown)`},
	},
	{
		name: "exactly_one require: an unknown op may have won", inv: with(exactlyOneInv, func(i *flatInv) { i.Require = true }),
		hist: append(append([]hOp{}, orderOps...), hop(5, "submit", "order-3", hFail, 0, 5), hop(6, "submit", "order-3", hUnk, 0, 5)), want: Pass,
	},
	{
		// The key is named in the answer (group): the winner's response
		// was cut, and it may have won any one key (issue 14).
		name: "exactly_one require: an unknown op that lost its key may have won one key", inv: with(exactlyOneInv, func(i *flatInv) { i.Require = true; i.Group = "order" }),
		hist: []hOp{hop(1, "submit", "", hOK, 0, 5).capt("order", "o-1"), hop(2, "submit", "", hFail, 0, 5).capt("order", "o-2"), hop(3, "submit", "", hUnk, 0, 5)},
		want: Pass, wantActual: "1 unknown request carried no order",
	},
	{
		name: "exactly_one require: an unknown op that lost its key wins one key, not two", inv: with(exactlyOneInv, func(i *flatInv) { i.Require = true; i.Group = "order" }),
		hist: []hOp{hop(1, "submit", "", hFail, 0, 5).capt("order", "o-1"), hop(2, "submit", "", hFail, 0, 5).capt("order", "o-2"), hop(3, "submit", "", hUnk, 0, 5)},
		want: Fail, wantAnomaly: "no request succeeded (every conflicting request was rejected)",
	},
	{
		name: "exactly_one grouped by a rendered value", inv: with(exactlyOneInv, func(i *flatInv) { i.Group = "idem" }),
		hist: []hOp{hop(1, "submit", "a", hOK, 0, 5).val("idem", "k-1"), hop(2, "submit", "b", hOK, 0, 5).val("idem", "k-1"), hop(3, "submit", "c", hOK, 0, 5).val("idem", "k-2")},
		want: Fail, wantAnomaly: "double submit (more than one request succeeded for one key)", wantActual: "2 keys, 3 requests",
	},
	{name: "exactly_one group key is the request's key", inv: with(exactlyOneInv, func(i *flatInv) { i.Group = "key" }), hist: orderOps, want: Pass, wantActual: "2 keys, 4 requests"},
	{name: "exactly_one without ops of the operation is an error", inv: exactlyOneInv, hist: []hOp{hop(1, "other", "", hOK, 0, 5)}, ops: []string{"submit", "other"}, want: Error, wantError: `no "submit" ops`},
	{name: "exactly_one without a history is an error", inv: exactlyOneInv, tally: map[string]counts{"submit": {1, 0, 0}}, want: Error, wantError: "no history file"},

	// newest_wins (RC-004).
	{
		name: "newest_wins newest acknowledged job stored", inv: newestInv, setup: resultsSetup, hist: regenOps,
		attack: []string{`UPDATE results SET seq = 2 WHERE k = 'asset-1'`, `UPDATE results SET seq = 4 WHERE k = 'asset-2'`}, want: Pass,
		wantActual: "3 keys stored, 2 keys written by 5 requests (3 ok, 1 fail, 1 unknown); every key holds its newest acknowledged result or a newer one",
	},
	{
		name: "newest_wins unknown newer job may win (ok alone would fail)", inv: newestInv, setup: resultsSetup, hist: regenOps,
		attack: []string{`UPDATE results SET seq = 3 WHERE k = 'asset-1'`, `UPDATE results SET seq = 4 WHERE k = 'asset-2'`}, want: Pass,
	},
	{
		name: "newest_wins stale overwrite", inv: newestInv, setup: resultsSetup, hist: regenOps,
		attack: []string{`UPDATE results SET seq = 1 WHERE k = 'asset-1'`, `UPDATE results SET seq = 4 WHERE k = 'asset-2'`},
		want:   Fail, wantAnomaly: "stale overwrite (out-of-order completion)",
		wantEvidence: []string{`key "asset-1": stored seq=1, older than acknowledged seq=2 (#2 ok 200 03:04:05.010000→03:04:05.030000); the stale job was #1 ok 200 03:04:05.000000→03:04:05.100000`},
	},
	{
		name: "newest_wins value nobody wrote", inv: newestInv, setup: resultsSetup, hist: regenOps,
		attack: []string{`UPDATE results SET seq = 9 WHERE k = 'asset-1'`, `UPDATE results SET seq = 4 WHERE k = 'asset-2'`, `UPDATE results SET seq = 5 WHERE k = 'asset-3'`},
		want:   Fail, wantAnomaly: "unwritten value (no request wrote the stored result)", wantActual: "2 keys hold a value no request wrote",
	},
	{
		name: "newest_wins acknowledged result missing", inv: newestInv, setup: resultsSetup, hist: regenOps,
		attack: []string{`UPDATE results SET seq = 2 WHERE k = 'asset-1'`, `DELETE FROM results WHERE k = 'asset-2'`},
		want:   Fail, wantAnomaly: "stale overwrite (out-of-order completion)", wantActual: "1 key holds an older result",
	},
	{
		name: "newest_wins version from a capture", inv: with(newestInv, func(i *flatInv) { i.VersionFrom = "job" }), setup: resultsSetup,
		hist:   []hOp{hop(1, "regen", "asset-1", hOK, 0, 100).capt("job", 7), hop(2, "regen", "asset-1", hOK, 10, 20).capt("job", 8)},
		attack: []string{`UPDATE results SET seq = 7 WHERE k = 'asset-1'`}, want: Fail, wantAnomaly: "stale overwrite (out-of-order completion)",
	},
	{
		// A cut response left an unknown op without its job number: the
		// checker still decides (issue 14) — it may explain a newer value.
		name: "newest_wins unknown op without its sequence may have written the stored value", inv: with(newestInv, func(i *flatInv) { i.VersionFrom = "job" }), setup: resultsSetup,
		hist:   []hOp{hop(1, "regen", "asset-1", hOK, 0, 100).capt("job", 7), hop(2, "regen", "asset-1", hUnk, 10, 20)},
		attack: []string{`UPDATE results SET seq = 9 WHERE k = 'asset-1'`}, want: Pass, wantActual: "1 unknown request carried no job",
	},
	{
		name: "newest_wins unknown op without its sequence never explains an older value", inv: with(newestInv, func(i *flatInv) { i.VersionFrom = "job" }), setup: resultsSetup,
		hist:   []hOp{hop(1, "regen", "asset-1", hOK, 0, 100).capt("job", 7), hop(2, "regen", "asset-1", hOK, 10, 20).capt("job", 8), hop(3, "regen", "asset-1", hUnk, 30, 40)},
		attack: []string{`UPDATE results SET seq = 7 WHERE k = 'asset-1'`}, want: Fail, wantAnomaly: "stale overwrite (out-of-order completion)",
	},
	{name: "newest_wins without Prepare is an error", inv: newestInv, setup: resultsSetup, hist: regenOps, skipPrepare: true, want: Error, wantError: "Prepare"},
	{name: "newest_wins query error is an error", inv: newestInv, setup: resultsSetup, hist: regenOps, attack: []string{`DROP TABLE results`}, want: Error, wantError: "results"},

	// no_lost_update (RC-002).
	{name: "no_lost_update stale write rejected", inv: noLostInv, setup: docsSetup, hist: []hOp{save(1, hOK, 0), save(2, hFail, 1)}, attack: []string{`UPDATE docs SET version = 6 WHERE id = 1`}, want: Pass},
	{
		name: "no_lost_update two writes on one version both acknowledged", inv: noLostInv, setup: docsSetup, hist: []hOp{save(1, hOK, 0), save(2, hOK, 1)},
		attack: []string{`UPDATE docs SET version = 6 WHERE id = 1`}, want: Fail, wantAnomaly: "lost update (last write wins silently)",
		wantEvidence: []string{`key "1": version 5→6 (+1) but 2 writes acknowledged — #1 ok 200 03:04:05.000000→03:04:05.010000; #2 ok 200 03:04:05.001000→03:04:05.011000`},
	},
	{name: "no_lost_update unknown write may have bumped (ok alone would fail)", inv: noLostInv, setup: docsSetup, hist: []hOp{save(1, hOK, 0), save(2, hUnk, 1)}, attack: []string{`UPDATE docs SET version = 7 WHERE id = 1`}, want: Pass},
	{
		name: "no_lost_update blind version bump caught by the base version", inv: with(noLostInv, func(i *flatInv) { i.VersionFrom = "version" }), setup: docsSetup,
		hist: []hOp{save(1, hOK, 0), save(2, hOK, 1)}, attack: []string{`UPDATE docs SET version = 7 WHERE id = 1`},
		want: Fail, wantAnomaly: "lost update (last write wins silently)", wantActual: "overwritten without a conflict",
		wantEvidence: []string{`key "1": 2 writes based on version "5" were all acknowledged — #1 ok 200 03:04:05.000000→03:04:05.010000; #2 ok 200 03:04:05.001000→03:04:05.011000`},
	},
	{
		name: "no_lost_update phantom bumps", inv: noLostInv, setup: docsSetup, hist: []hOp{save(1, hOK, 0)}, attack: []string{`UPDATE docs SET version = 8 WHERE id = 1`},
		want: Fail, wantAnomaly: "phantom version bumps", wantEvidence: []string{`key "1": version 5→8 (+3) but only 1 ok and 0 unknown write`},
	},
	{
		// The document a write touched is named in its answer (group):
		// a cut response loses it, and the write may have bumped any
		// document once (issue 14).
		name: "no_lost_update unknown write that lost its key may have bumped any key", inv: with(noLostInv, func(i *flatInv) { i.Group = "doc" }), setup: docsSetup,
		hist: []hOp{save(1, hOK, 0).capt("doc", "1"), save(2, hUnk, 1)}, attack: []string{`UPDATE docs SET version = 7 WHERE id = 1`},
		want: Pass, wantActual: "1 unknown write carried no doc",
	},
	{
		name: "no_lost_update unknown writes that lost their key bound the bumps", inv: with(noLostInv, func(i *flatInv) { i.Group = "doc" }), setup: docsSetup,
		hist: []hOp{save(1, hOK, 0).capt("doc", "1"), save(2, hUnk, 1)}, attack: []string{`UPDATE docs SET version = 8 WHERE id = 1`},
		want: Fail, wantAnomaly: "phantom version bumps", wantEvidence: []string{`key "1": version 5→8 (+3) but only 1 ok and 0 unknown write, and 1 unknown write of any key`},
	},
	{name: "no_lost_update written key without a row is an error", inv: noLostInv, setup: docsSetup, hist: []hOp{save(1, hOK, 0)}, attack: []string{`DELETE FROM docs WHERE id = 1`}, want: Error, wantError: "no row after the attack"},

	// all_present (RC-003).
	{name: "all_present every add kept", inv: presentInv, setup: itemsSetup, hist: addOps, attack: []string{`INSERT INTO items VALUES ('u-1'), ('u-2'), ('u-3')`}, want: Pass, wantActual: "4 items present; 3 adds acknowledged (add: 3 ok, 1 fail, 1 unknown); all present"},
	{name: "all_present an unknown add may be there (ok alone would fail)", inv: presentInv, setup: itemsSetup, hist: addOps, attack: []string{`INSERT INTO items VALUES ('u-1'), ('u-2'), ('u-3'), ('u-4')`}, want: Pass},
	{
		name: "all_present lost insert", inv: presentInv, setup: itemsSetup, hist: addOps, attack: []string{`INSERT INTO items VALUES ('u-1'), ('u-3')`},
		want: Fail, wantAnomaly: "lost insert", wantEvidence: []string{`"u-2" acknowledged by #2 ok 200 03:04:05.001000→03:04:05.011000 but not present`},
	},
	{
		name: "all_present phantom item", inv: presentInv, setup: itemsSetup, hist: addOps, attack: []string{`INSERT INTO items VALUES ('u-1'), ('u-2'), ('u-3'), ('u-5'), ('zzz')`},
		want: Fail, wantAnomaly: "phantom item", wantActual: "2 items no request sent",
	},
	{
		name: "all_present duplicate item", inv: presentInv, setup: itemsSetup, hist: addOps, attack: []string{`INSERT INTO items VALUES ('u-1'), ('u-1'), ('u-2'), ('u-3')`},
		want: Fail, wantAnomaly: "duplicate item", wantEvidence: []string{`"u-1" present ×2, added once`},
	},
	{
		name: "all_present ids from a capture", inv: with(presentInv, func(i *flatInv) { i.ValueFrom = "id"; i.Query = `SELECT id FROM assets` }),
		setup: []string{`CREATE TABLE assets (id INTEGER)`}, attack: []string{`INSERT INTO assets VALUES (17)`},
		hist: []hOp{hop(1, "add", "p", hOK, 0, 5).capt("id", 17), hop(2, "add", "p", hOK, 0, 5).capt("id", 18)},
		want: Fail, wantAnomaly: "lost insert", wantActual: "1 acknowledged item missing",
	},
	{
		// A cut response loses the id the service assigned: the item it
		// added is present but unseen. Such items are bounded by the
		// unknown ops that lost their id, not forbidden (issue 14).
		name: "all_present unknown add that lost its assigned id may have added an unseen item", inv: with(presentInv, func(i *flatInv) { i.ValueFrom = "id"; i.Query = `SELECT id FROM assets` }),
		setup: []string{`CREATE TABLE assets (id INTEGER)`}, attack: []string{`INSERT INTO assets VALUES (17), (18)`},
		hist: []hOp{hop(1, "add", "p", hOK, 0, 5).capt("id", 17), hop(2, "add", "p", hUnk, 0, 5)},
		want: Pass, wantActual: "1 unknown request carried no id",
	},
	{
		name: "all_present more unseen items than unknown adds that lost their id", inv: with(presentInv, func(i *flatInv) { i.ValueFrom = "id"; i.Query = `SELECT id FROM assets` }),
		setup: []string{`CREATE TABLE assets (id INTEGER)`}, attack: []string{`INSERT INTO assets VALUES (17), (18), (19)`},
		hist: []hOp{hop(1, "add", "p", hOK, 0, 5).capt("id", 17), hop(2, "add", "p", hUnk, 0, 5)},
		want: Fail, wantAnomaly: "phantom item", wantActual: "2 items no request sent",
	},
	{name: "new all_present without value_from", inv: with(presentInv, func(i *flatInv) { i.ValueFrom = "" }), newErr: "value_from is required"},

	// locks (RC-007).
	{
		name: "locks holds take turns and rejections meet a holder", inv: locksInv,
		hist: []hOp{holdOp(1, hOK, 0, 60, 5, 55, "t1"), holdOp(2, hFail, 10, 2, 0, 0, ""), holdOp(3, hOK, 70, 60, 75, 125, "t2")},
		want: Pass, wantActual: "1 lock, 3 requests (2 ok, 1 fail, 0 unknown); holds never overlapped",
	},
	{
		// A profile without keys: no `lock ""` in the evidence.
		name: "locks two holders of the one unkeyed lock", inv: locksInv,
		hist: []hOp{unkeyed(holdOp(1, hOK, 0, 60, 5, 55, "t1")), unkeyed(holdOp(2, hOK, 20, 60, 25, 75, "t2"))},
		want: Fail, wantAnomaly: "two holders at once",
	},
	{
		name: "locks two holders at once", inv: locksInv,
		hist: []hOp{holdOp(1, hOK, 0, 60, 5, 55, "t1"), holdOp(2, hOK, 20, 60, 25, 75, "t2")},
		want: Fail, wantAnomaly: "two holders at once",
		wantEvidence: []string{`lock "lock-1": #1 (holder "w1", token "t1") held 03:04:05.005000–03:04:05.055000 and #2 (holder "w2", token "t2") held 03:04:05.025000–03:04:05.075000 overlap by 30ms`},
	},
	{
		name: "locks a cut-off holder blocks only until its TTL", inv: locksInv,
		hist: []hOp{hop(1, "hold", "lock-1", hUnk, 0, 50), holdOp(2, hFail, 100, 2, 0, 0, ""), holdOp(3, hFail, 340, 2, 0, 0, ""), holdOp(4, hOK, 400, 50, 405, 445, "t4")},
		want: Pass,
	},
	{
		name: "locks lock never expired", inv: locksInv,
		hist: []hOp{hop(1, "hold", "lock-1", hUnk, 0, 50), holdOp(2, hFail, 100, 2, 0, 0, ""), holdOp(3, hFail, 400, 2, 0, 0, "")},
		want: Fail, wantAnomaly: "lock never expired",
		wantEvidence: []string{`lock "lock-1": #3 fail 423 03:04:05.400000→03:04:05.402000 rejected 50ms after the cut-off holder #1 unknown 03:04:05.000000→03:04:05.050000 (context deadline exceeded) could still hold it (ttl 200ms + slack 100ms)`},
	},
	{
		name: "locks rejected while nobody held the lock", inv: locksInv, hist: []hOp{holdOp(1, hFail, 0, 2, 0, 0, "")},
		want: Fail, wantAnomaly: "lock never expired", wantEvidence: []string{`lock "lock-1": #1 fail 423 03:04:05.000000→03:04:05.002000 rejected while no request of the run held the lock`},
	},
	{
		name: "locks shared token", inv: locksInv, hist: []hOp{holdOp(1, hOK, 0, 60, 5, 55, "same"), holdOp(2, hOK, 70, 60, 75, 125, "same")},
		want: Fail, wantAnomaly: "shared lock token (a holder could release another's lock)",
	},
	{
		name: "locks holds of different locks may overlap; other failures say nothing", inv: locksInv,
		hist: []hOp{holdOp(1, hOK, 0, 60, 5, 55, "t1"), func() hOp { o := holdOp(2, hOK, 20, 60, 25, 75, "t2"); o.Key = "lock-2"; return o }(), holdOp(3, hFail, 500, 2, 0, 0, "").status(400)},
		want: Pass, wantActual: "2 locks, 3 requests",
	},
	{
		// The lock is named in the answer (group): a holder cut off
		// mid-hold lost it, and may have held any lock (issue 14).
		name: "locks a cut-off holder that lost its lock name may hold any lock", inv: with(locksInv, func(i *flatInv) { i.Group = "lock" }),
		hist: []hOp{hop(1, "hold", "", hUnk, 0, 50), holdOp(2, hFail, 100, 2, 0, 0, "").capt("lock", "lock-1")},
		want: Pass, wantActual: "1 unknown request carried no lock",
	},
	{
		name: "locks a cut-off holder that lost its lock name still expires", inv: with(locksInv, func(i *flatInv) { i.Group = "lock" }),
		hist: []hOp{hop(1, "hold", "", hUnk, 0, 50), holdOp(2, hFail, 400, 2, 0, 0, "").capt("lock", "lock-1")},
		want: Fail, wantAnomaly: "lock never expired",
	},
	{name: "locks ok hold without captures is an error", inv: locksInv, hist: []hOp{hop(1, "hold", "lock-1", hOK, 0, 5)}, want: Error, wantError: `no capture "acquired_at"`},
	{name: "new locks without ttl", inv: with(locksInv, func(i *flatInv) { i.TTL = 0 }), newErr: "ttl is required"},

	// linearizable (porcupine).
	{
		name: "linearizable reads see the latest write", inv: linInv,
		hist: []hOp{put(1, hOK, 0, 10, "1"), get(2, 20, 10, 1), put(3, hOK, 40, 10, "2"), get(4, 60, 10, 2)},
		want: Pass, wantActual: "1 key, 4 ops (4 ok, 0 fail, 0 unknown); linearizable",
	},
	{name: "linearizable read concurrent with a write may see the old value", inv: linInv, hist: []hOp{put(1, hOK, 0, 10, "1"), put(2, hOK, 40, 40, "2"), get(3, 50, 10, 1)}, want: Pass},
	{
		name: "linearizable stale read", inv: linInv, hist: []hOp{put(1, hOK, 0, 10, "1"), put(2, hOK, 20, 10, "2"), get(3, 40, 10, 1)},
		want: Fail, wantAnomaly: "not linearizable (stale or impossible read)", wantActual: "1 key is not linearizable",
	},
	{name: "linearizable an unknown write may land late (ok alone would fail)", inv: linInv, hist: []hOp{put(1, hOK, 0, 10, "1"), put(2, hUnk, 20, 10, "2"), get(3, 100, 10, 2)}, want: Pass},
	{
		name: "linearizable an unknown write does not excuse going back", inv: linInv,
		hist: []hOp{put(1, hOK, 0, 10, "1"), put(2, hUnk, 20, 10, "2"), get(3, 100, 10, 2), get(4, 120, 10, 1)},
		want: Fail, wantAnomaly: "not linearizable (stale or impossible read)",
	},
	{
		// The service assigns the written value and answers it: a cut
		// response loses it, and the write may explain any later read —
		// but only one value (issue 14).
		name: "linearizable an unknown write that lost its assigned value may explain a read", inv: with(linInv, func(i *flatInv) { i.ValueFrom = "version" }),
		hist: []hOp{hop(1, "put", "k", hOK, 0, 10).capt("version", 1), hop(2, "put", "k", hUnk, 20, 10), get(3, 100, 10, 7), get(4, 120, 10, 7)},
		want: Pass,
	},
	{
		name: "linearizable an unknown write that lost its assigned value wrote one value", inv: with(linInv, func(i *flatInv) { i.ValueFrom = "version" }),
		hist: []hOp{hop(1, "put", "k", hOK, 0, 10).capt("version", 1), hop(2, "put", "k", hUnk, 20, 10), get(3, 100, 10, 7), get(4, 120, 10, 8)},
		want: Fail, wantAnomaly: "not linearizable (stale or impossible read)",
	},
	{
		name: "linearizable initial values from the query", inv: with(linInv, func(i *flatInv) { i.Query = `SELECT k, v FROM regs` }),
		setup: []string{`CREATE TABLE regs (k VARCHAR(10), v INTEGER)`, `INSERT INTO regs VALUES ('k', 0)`},
		hist:  []hOp{get(1, 0, 10, 0), put(2, hOK, 20, 10, "1"), get(3, 40, 10, 1)}, want: Pass,
	},
	{
		name: "linearizable a read of a value nobody wrote", inv: with(linInv, func(i *flatInv) { i.Query = `SELECT k, v FROM regs` }),
		setup: []string{`CREATE TABLE regs (k VARCHAR(10), v INTEGER)`, `INSERT INTO regs VALUES ('k', 0)`},
		hist:  []hOp{get(1, 0, 10, 7)}, ops: []string{"get", "put"}, want: Fail, wantAnomaly: "not linearizable (stale or impossible read)",
	},
	{name: "linearizable without a query the first read fixes the initial value", inv: linInv, hist: []hOp{get(1, 0, 10, 5), get(2, 20, 10, 5)}, ops: []string{"get", "put"}, want: Pass},
	{name: "linearizable without a query the initial value does not change by itself", inv: linInv, hist: []hOp{get(1, 0, 10, 5), get(2, 20, 10, 6)}, ops: []string{"get", "put"}, want: Fail, wantAnomaly: "not linearizable (stale or impossible read)"},
	{name: "linearizable read without the capture is an error", inv: linInv, hist: []hOp{hop(1, "get", "k", hOK, 0, 5)}, ops: []string{"get", "put"}, want: Error, wantError: `no capture "value"`},
	{name: "new linearizable same read and write op", inv: with(linInv, func(i *flatInv) { i.ReadOp = "put" }), newErr: "different operations"},
}
