package discover

import (
	"testing"

	"github.com/collide-dev/collide/chaos/tap"
)

func paramTrace(stmts ...[]string) *Trace {
	tr := &Trace{}
	for _, s := range stmts {
		st := tap.Statement{Text: s[0]}
		for _, p := range s[1:] {
			st.Params = append(st.Params, tap.Param{Text: p})
		}
		tr.Statements = append(tr.Statements, st)
	}
	return tr
}

// TestLeaseOf: a row written and then deleted by one request is a lease,
// keyed by the column the read pinned, on PostgreSQL and MariaDB alike.
func TestLeaseOf(t *testing.T) {
	locks := Finding{Table: "locks", Columns: []string{"expires_us"}}
	for _, c := range []struct {
		name     string
		tr       *Trace
		key, val string
	}{
		{"postgres upsert", paramTrace(
			[]string{"SELECT expires_us FROM locks WHERE name = $1", "nightly"},
			[]string{"INSERT INTO locks (name, holder, expires_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us", "nightly", "h1", "9"},
			[]string{"DELETE FROM locks WHERE name = $1 AND holder = $2", "nightly", "h1"}), "name", "nightly"},
		{"mariadb on duplicate key", paramTrace(
			[]string{"SELECT expires_us FROM locks WHERE name = ?", "nightly"},
			[]string{"INSERT INTO locks (name, holder, expires_us) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE holder = VALUES(holder), expires_us = VALUES(expires_us)", "nightly", "h1", "9"},
			[]string{"DELETE FROM locks WHERE holder = ? AND name = ?", "h1", "nightly"}), "name", "nightly"},
		{"update then delete", paramTrace(
			[]string{"UPDATE locks SET expires_us = $1 WHERE name = $2", "9", "a"},
			[]string{"DELETE FROM locks WHERE name = $1", "a"}), "name", "a"},
		{"kept", paramTrace(
			[]string{"SELECT expires_us FROM locks WHERE name = $1", "nightly"},
			[]string{"INSERT INTO locks (name, holder, expires_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET expires_us = excluded.expires_us", "nightly", "h1", "9"}), "", ""},
		{"another row deleted", paramTrace(
			[]string{"UPDATE locks SET expires_us = $1 WHERE name = $2", "9", "a"},
			[]string{"DELETE FROM locks WHERE name = $1", "b"}), "", ""},
		{"no trace", nil, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, val, ok := leaseOf(locks, c.tr)
			if key != c.key || val != c.val || ok != (c.key != "") {
				t.Errorf("leaseOf = %q, %q, %v; want %q, %q", key, val, ok, c.key, c.val)
			}
		})
	}
}

// TestDebitOf: the debited row and the amount of one debit, from the
// write's subtraction or else the request's body.
func TestDebitOf(t *testing.T) {
	accounts := Finding{Table: "accounts", Columns: []string{"balance"}}
	for _, c := range []struct {
		name string
		tr   *Trace
		body string
		want debitRow
		ok   bool
	}{
		{"subtracted parameter", paramTrace([]string{"SELECT balance FROM accounts WHERE id = $1", "3"},
			[]string{"UPDATE accounts SET balance = balance - $1 WHERE id = $2", "25", "3"}), `{"amount": 10}`,
			debitRow{key: "id", value: "3", col: "balance", amount: 25}, true},
		{"subtracted literal, ? parameters", paramTrace([]string{"UPDATE accounts SET balance = balance - 2 WHERE id = ?", "5"}), "",
			debitRow{key: "id", value: "5", col: "balance", amount: 2}, true},
		{"computed: the body's amount", paramTrace([]string{"UPDATE accounts SET balance = $1 WHERE id = $2", "90", "1"},
			[]string{"UPDATE accounts SET balance = $1 WHERE id = $2", "110", "2"}), `{"from": 1, "to": 2, "amount": 10}`,
			debitRow{key: "id", value: "1", col: "balance", amount: 10}, true},
		{"the subtracting write first", paramTrace([]string{"UPDATE accounts SET balance = $1 WHERE id = $2", "110", "2"},
			[]string{"UPDATE accounts SET balance = balance - $1 WHERE id = $2", "10", "1"}), "",
			debitRow{key: "id", value: "1", col: "balance", amount: 10}, true},
		{"computed, no amount: 1", paramTrace([]string{"UPDATE accounts SET balance = $1 WHERE id = $2", "90", "1"}), `{"note": "x"}`,
			debitRow{key: "id", value: "1", col: "balance", amount: 1}, true},
		{"atomic increment only", paramTrace([]string{"UPDATE accounts SET balance = balance + $1 WHERE id = $2", "10", "1"}), "", debitRow{}, false},
		{"no trace", nil, "", debitRow{}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := debitOf(accounts, Request{Body: []byte(c.body)}, c.tr)
			if got != c.want || ok != c.ok {
				t.Errorf("debitOf = %+v, %v; want %+v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}
