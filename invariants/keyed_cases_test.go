package invariants

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/collide-dev/collide/database/dbtest"
)

// keyedCheckCases prove the per_key forms of counter, conservation and
// bounded_debits both ways: each key is judged with its own number and its
// own ops, so a lost update on one key fails even when another key's extra
// increments make the total add up, and unknown ops widen only their own
// key's bound.

var (
	countersSetup = []string{counterSetup, `INSERT INTO counters (id, value) VALUES (1, 100), (2, 100), (3, 100)`}
	keyedCounter  = flatInv{Name: "every increment counted on its counter", Check: "counter", Query: `SELECT id, value FROM counters`, Op: "incr", PerKey: true}
	// key 1: 3 ok and 1 unknown; key 2: 2 ok and 1 fail; key 3: no ops.
	keyedIncrs = []hOp{
		hop(1, "incr", "1", hOK, 0, 5), hop(2, "incr", "1", hOK, 1, 5), hop(3, "incr", "1", hOK, 2, 5), hop(4, "incr", "1", hUnk, 3, 500),
		hop(5, "incr", "2", hOK, 4, 5), hop(6, "incr", "2", hOK, 5, 5), hop(7, "incr", "2", hFail, 6, 5),
	}

	ledgerSetup = []string{`CREATE TABLE entries (ledger INTEGER, amount BIGINT)`,
		`INSERT INTO entries (ledger, amount) VALUES (1, 50), (1, 50), (2, 70)`}
	keyedConserved = flatInv{Name: "each ledger keeps its total", Check: "conservation", PerKey: true,
		Query: `SELECT ledger, SUM(amount) AS total FROM entries GROUP BY ledger`}

	walletsSetup = []string{`CREATE TABLE wallets (id INTEGER PRIMARY KEY, balance BIGINT)`, `INSERT INTO wallets (id, balance) VALUES (1, 30), (2, 30)`}
	keyedDebits  = flatInv{Name: "debits add up per wallet", Check: "bounded_debits", Query: `SELECT id, balance FROM wallets`, Op: "debit", Amount: 10, Floor: ptrTo(0.0), PerKey: true}
	// wallet 1: 3 ok; wallet 2: 1 ok, 1 unknown, 1 fail.
	keyedDebitOps = []hOp{
		hop(1, "debit", "1", hOK, 0, 5), hop(2, "debit", "1", hOK, 1, 5), hop(3, "debit", "1", hOK, 2, 5),
		hop(4, "debit", "2", hOK, 3, 5), hop(5, "debit", "2", hUnk, 4, 500), hop(6, "debit", "2", hFail, 5, 5),
	}
)

func setCounters(v1, v2, v3 string) []string {
	return []string{`UPDATE counters SET value = ` + v1 + ` WHERE id = 1`, `UPDATE counters SET value = ` + v2 + ` WHERE id = 2`, `UPDATE counters SET value = ` + v3 + ` WHERE id = 3`}
}

func setWallets(v1, v2 string) []string {
	return []string{`UPDATE wallets SET balance = ` + v1 + ` WHERE id = 1`, `UPDATE wallets SET balance = ` + v2 + ` WHERE id = 2`}
}

// groupedIncrs name their counter in the answer (group: counter): the
// rejected and the cut-off ones carry none.
var groupedIncrs = []hOp{
	hop(1, "incr", "", hOK, 0, 5).capt("counter", 1), hop(2, "incr", "", hOK, 1, 5).capt("counter", 1),
	hop(3, "incr", "", hFail, 2, 5), hop(4, "incr", "", hUnk, 3, 500),
}

var keyedCheckCases = []checkCase{
	{
		// An unknown op that lost the key named in its answer may have
		// incremented any counter once; a rejected one none (issue 14).
		name: "keyed counter unknown op that lost its key may have acted on any key", inv: with(keyedCounter, func(i *flatInv) { i.Group = "counter" }),
		setup: countersSetup, hist: groupedIncrs, attack: setCounters("103", "101", "100"), want: Pass,
		wantActual: "1 unknown request carried no counter",
	},
	{
		name: "keyed counter unknown op that lost its key acts at most once per key", inv: with(keyedCounter, func(i *flatInv) { i.Group = "counter" }),
		setup: countersSetup, hist: groupedIncrs, attack: setCounters("102", "102", "100"), want: Fail, wantAnomaly: "phantom increments / double apply",
	},
	// counter, per key.
	{
		name: "keyed counter passes when every key is within its bound", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs,
		attack: setCounters("103", "102", "100"), want: Pass,
		wantActual: "3 keys checked; incr: 5 ok, 1 fail, 1 unknown; every key within its bound",
	},
	{name: "keyed counter unknown op widens its own key's bound", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs, attack: setCounters("104", "102", "100"), want: Pass},
	{
		name: "keyed counter lost update on one key", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs,
		attack: setCounters("103", "101", "100"), want: Fail, wantAnomaly: "lost update", wantActual: "3 keys checked; incr: 5 ok, 1 fail, 1 unknown; 1 key violated",
		wantEvidence: []string{`key "2": after − before = +1 (101 − 100), incr: 2 ok, 1 fail, 0 unknown; 1 acknowledged increment missing`},
	},
	{
		// The totals add up (Δ = 6 = 5 ok + 1 unknown): only the keyed form
		// sees that key 2 lost an increment that key 1 gained.
		name: "keyed counter sees a lost update the total hides", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs,
		attack: setCounters("105", "101", "100"), want: Fail, wantAnomaly: "lost update", wantActual: "2 keys violated",
		wantEvidence: []string{
			`key "1": after − before = +5 (105 − 100), incr: 3 ok, 0 fail, 1 unknown; 1 increment more than the ok and unknown ops could make`,
			`key "2": after − before = +1 (101 − 100), incr: 2 ok, 1 fail, 0 unknown; 1 acknowledged increment missing`,
		},
	},
	{
		name: "keyed counter key without ops must not move", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs,
		attack: setCounters("103", "102", "101"), want: Fail, wantAnomaly: "phantom increments / double apply",
		wantEvidence: []string{`key "3": after − before = +1 (101 − 100), incr: 0 ok, 0 fail, 0 unknown; 1 increment more than the ok and unknown ops could make`},
	},
	{
		name: "keyed counter step and many keys sorted as numbers", inv: with(keyedCounter, func(i *flatInv) { i.Step = 2 }),
		setup: []string{counterSetup, `INSERT INTO counters (id, value) VALUES (2, 0), (10, 0), (9, 0)`},
		hist:  []hOp{hop(1, "incr", "2", hOK, 0, 5), hop(2, "incr", "10", hOK, 0, 5), hop(3, "incr", "9", hOK, 0, 5)},
		want:  Fail, wantAnomaly: "lost update", wantActual: "3 keys violated",
		wantEvidence: []string{
			`key "2": after − before = +0 (0 − 0), incr: 1 ok, 0 fail, 0 unknown; 1 acknowledged increment missing`,
			`key "9": after − before = +0 (0 − 0), incr: 1 ok, 0 fail, 0 unknown; 1 acknowledged increment missing`,
			`key "10": after − before = +0 (0 − 0), incr: 1 ok, 0 fail, 0 unknown; 1 acknowledged increment missing`,
		},
	},
	{
		name: "keyed counter amounts from each op", inv: with(keyedCounter, func(i *flatInv) { i.ValueFrom = "n" }), setup: countersSetup,
		hist:   []hOp{hop(1, "incr", "1", hOK, 0, 5).val("n", "5"), hop(2, "incr", "2", hUnk, 0, 5).val("n", "7"), hop(3, "incr", "2", hOK, 0, 5).val("n", "1")},
		attack: setCounters("105", "101", "100"), want: Pass,
	},
	{
		name: "keyed counter groups by a value", inv: with(keyedCounter, func(i *flatInv) { i.Group = "id" }), setup: countersSetup,
		hist:   []hOp{hop(1, "incr", "", hOK, 0, 5).val("id", "1"), hop(2, "incr", "", hOK, 1, 5).val("id", "1"), hop(3, "incr", "", hOK, 2, 5).val("id", "3")},
		attack: setCounters("101", "100", "101"), want: Fail, wantAnomaly: "lost update",
		wantEvidence: []string{`key "1": after − before = +1 (101 − 100), incr: 2 ok, 0 fail, 0 unknown; 1 acknowledged increment missing`},
	},
	{
		name: "keyed counter ops of keys the query does not return is an error", inv: keyedCounter, setup: countersSetup,
		hist: []hOp{hop(1, "incr", "key-0", hOK, 0, 5)}, want: Error,
		wantError: `1 key cannot be checked: key "key-0": no row before or after the attack (incr: 1 ok, 0 fail, 0 unknown)`,
	},
	{
		name: "keyed counter ops of a failing key keep failing when another key cannot be checked", inv: keyedCounter, setup: countersSetup,
		hist: []hOp{hop(1, "incr", "key-0", hOK, 0, 5), hop(2, "incr", "1", hOK, 0, 5)}, want: Fail, wantAnomaly: "lost update",
		wantActual: "1 key violated; 1 key could not be checked",
	},
	{
		name: "keyed counter only failed ops on a key without a row is fine", inv: keyedCounter, setup: countersSetup,
		hist: []hOp{hop(1, "incr", "404", hFail, 0, 5)}, want: Pass,
	},
	{
		name: "keyed counter ops without a key is an error", inv: keyedCounter, setup: countersSetup,
		hist: []hOp{hop(1, "incr", "", hOK, 0, 5)}, want: Error, wantError: "per_key needs {{key}} in the request",
	},
	{
		name: "keyed counter one column is an error", inv: with(keyedCounter, func(i *flatInv) { i.Query = `SELECT value FROM counters` }),
		setup: countersSetup, hist: keyedIncrs, prepareErr: "want two, the key and its number", want: Error, wantError: "want two",
	},
	{
		name: "keyed counter repeated key is an error", inv: with(keyedCounter, func(i *flatInv) { i.Query = `SELECT 1 AS k, value FROM counters` }),
		setup: countersSetup, hist: keyedIncrs, prepareErr: "more than one row", want: Error, wantError: "more than one row",
	},
	{
		name: "keyed counter row deleted by the attack is an error", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs,
		attack: []string{`UPDATE counters SET value = 103 WHERE id = 1`, `DELETE FROM counters WHERE id = 2`}, want: Error, wantError: `key "2": no row after the attack`,
	},
	{name: "keyed counter without Prepare is an error", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs, skipPrepare: true, want: Error, wantError: "Prepare"},
	{name: "keyed counter on a closed database is an error", inv: keyedCounter, setup: countersSetup, hist: keyedIncrs, closeDB: true, want: Error},
	{name: "new counter group without per_key", inv: with(counterInv, func(i *flatInv) { i.Group = "id" }), newErr: "set per_key: true"},
	{name: "new never_negative does not read per_key", inv: with(nonNegInv, func(i *flatInv) { i.PerKey = true }), newErr: "per_key is not read by checker never_negative"},

	// conservation, per key.
	{
		name: "keyed conservation holds when money moves within each ledger", inv: keyedConserved, setup: ledgerSetup,
		attack: []string{`UPDATE entries SET amount = 30 WHERE ledger = 1 AND amount = 50`, `INSERT INTO entries VALUES (1, 40)`}, want: Pass,
		wantActual: "2 keys checked; every key within its bound",
	},
	{
		// The grand total stays 170: only the keyed form sees the move.
		name: "keyed conservation money moved between ledgers", inv: keyedConserved, setup: ledgerSetup,
		attack: []string{`UPDATE entries SET amount = 60 WHERE ledger = 2`, `INSERT INTO entries VALUES (1, 10)`}, want: Fail, wantAnomaly: "conserved total created",
		wantEvidence: []string{`key "1": total 100 → 110 (+10): 10 appeared from nowhere`, `key "2": total 70 → 60 (-10): 10 vanished`},
	},
	{
		name: "keyed conservation ledger vanished is an error", inv: keyedConserved, setup: ledgerSetup,
		attack: []string{`DELETE FROM entries WHERE ledger = 2`}, want: Error, wantError: `key "2": no row after the attack`,
	},
	{name: "new conservation per_key with op", inv: with(keyedConserved, func(i *flatInv) { i.Op = "x" }), newErr: "op is not read by checker conservation"},

	// bounded_debits, per key.
	{name: "keyed debits pass", inv: keyedDebits, setup: walletsSetup, hist: keyedDebitOps, attack: setWallets("0", "20"), want: Pass},
	{name: "keyed debits unknown debit may have applied", inv: keyedDebits, setup: walletsSetup, hist: keyedDebitOps, attack: setWallets("0", "10"), want: Pass},
	{
		name: "keyed debits acknowledged debit missing on one wallet", inv: keyedDebits, setup: walletsSetup, hist: keyedDebitOps,
		attack: setWallets("10", "20"), want: Fail, wantAnomaly: "lost update (acknowledged debits missing)",
		wantEvidence: []string{`key "1": balance 30 → 10 (-20), debit: 3 ok, 0 fail, 0 unknown, 3 debits acknowledged (30 units): 1 acknowledged debit missing from the balance`},
	},
	{
		name: "keyed debits overdraft on one wallet", inv: keyedDebits, setup: walletsSetup,
		hist:   append(slices.Clone(keyedDebitOps), hop(7, "debit", "1", hOK, 6, 5)),
		attack: setWallets("-10", "20"), want: Fail, wantAnomaly: "oversell / overdraft (TOCTOU)",
		wantEvidence: []string{`key "1": balance 30 → -10 (-40), debit: 4 ok, 0 fail, 0 unknown, 4 debits acknowledged (40 units): balance fell 10 below 0; 1 debit acknowledged beyond the 30 available (10 oversold)`},
	},
	{name: "new bounded_debits group without per_key", inv: with(debitInv, func(i *flatInv) { i.Group = "id" }), newErr: "set per_key: true"},
}

func TestKeyedCheckers(t *testing.T) {
	for _, d := range dbtest.Dialects {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			runCheckerSuite(t, d.Name, d.Opener(t), keyedCheckCases)
		})
	}
}

// TestKeyValues: a key query's first column as text, in row order, without
// repeats; no rows, NULL or too many keys are errors.
func TestKeyValues(t *testing.T) {
	db := dbtest.SQLite(t)
	dbtest.MustExec(t, db, `CREATE TABLE items (id INTEGER, name TEXT, price REAL)`,
		`INSERT INTO items VALUES (3, 'c', 1.0), (1, 'a', 2.5), (3, 'c', 1.0), (2, NULL, 3.0)`)
	ctx := context.Background()
	for _, tc := range []struct {
		name, query string
		limit       int
		want        []string
		err         string
	}{
		{"integers in row order without repeats", `SELECT id, name FROM items`, 10, []string{"3", "1", "2"}, ""},
		{"integral floats as integers", `SELECT price FROM items ORDER BY price`, 10, []string{"1", "2.5", "3"}, ""},
		{"text", `SELECT name FROM items WHERE name IS NOT NULL ORDER BY name`, 10, []string{"a", "c"}, ""},
		{"no rows", `SELECT id FROM items WHERE id > 99`, 10, nil, "no rows"},
		{"NULL", `SELECT name FROM items ORDER BY id`, 10, nil, "row 2: the key is NULL"},
		{"too many", `SELECT id FROM items`, 2, nil, "more than 2 keys"},
		{"bad SQL", `SELECT id FROM nowhere`, 10, nil, "nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KeyValues(ctx, db, tc.query, tc.limit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("KeyValues = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
