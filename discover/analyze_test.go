package discover

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
)

// st is one hand-written statement: on connection conn, in transaction txn
// (0: autocommit), with the bound values params.
type st struct {
	conn   uint64
	txn    int
	sql    string
	params []string
}

func traceOf(endpoint string, stmts ...st) Trace {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := Trace{Request: Request{ID: "test:" + endpoint, Endpoint: endpoint}}
	for i, s := range stmts {
		var ps []tap.Param
		for _, p := range s.params {
			ps = append(ps, tap.Param{Text: p})
		}
		text, errText := s.sql, ""
		if rest, ok := strings.CutPrefix(text, "!ERR "); ok {
			text, errText = rest, "40001: could not serialize access"
		}
		tr.Statements = append(tr.Statements, tap.Statement{
			ConnID: s.conn, Seq: i + 1, Start: t0.Add(time.Duration(i) * time.Millisecond),
			End:  t0.Add(time.Duration(i)*time.Millisecond + 500*time.Microsecond),
			Text: text, Err: errText, Params: ps, InTxn: s.txn != 0, TxnID: s.txn,
		})
	}
	return tr
}

// TestAnalyzeRules: named shapes, racy and protected, on hand-written
// statement lists; want is the class and table of each finding.
func TestAnalyzeRules(t *testing.T) {
	t.Parallel()
	schema := Schema{Unique: map[string][][]string{
		"orders":    {{"id"}},
		"favorites": {{"id"}, {"resource_id", "user_id"}},
		"users":     {{"id"}, {"email"}},
	}}
	cases := []struct {
		name  string
		stmts []st
		want  []string // "class table columns"
	}{
		{"lost update autocommit", []st{
			{1, 0, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
			{2, 0, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
		}, []string{"counter counters value"}},
		{"lost update in a transaction", []st{
			{1, 1, "BEGIN", nil},
			{1, 1, "SELECT value FROM counters WHERE id = ?", []string{"1"}},
			{1, 1, "UPDATE counters SET value = ? WHERE id = ?", []string{"5", "1"}},
			{1, 1, "COMMIT", nil},
		}, []string{"counter counters value"}},
		{"FOR UPDATE suppresses", []st{
			{1, 1, "BEGIN", nil},
			{1, 1, "SELECT value FROM counters WHERE id = $1 FOR UPDATE", []string{"1"}},
			{1, 1, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
			{1, 1, "COMMIT", nil},
		}, nil},
		{"FOR UPDATE outside the write's transaction does not", []st{
			{1, 0, "SELECT value FROM counters WHERE id = $1 FOR UPDATE", []string{"1"}},
			{1, 0, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
		}, []string{"counter counters value"}},
		{"atomic increment suppresses", []st{
			{1, 0, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
			{1, 0, "UPDATE counters SET value = value + $1 WHERE id = $2", []string{"1", "1"}},
		}, nil},
		{"another row is not the same row", []st{
			{1, 0, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
			{1, 0, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "2"}},
		}, nil},
		{"serializable suppresses (BEGIN ISOLATION LEVEL)", []st{
			{1, 1, "BEGIN ISOLATION LEVEL SERIALIZABLE", nil},
			{1, 1, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
			{1, 1, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
			{1, 1, "COMMIT", nil},
		}, nil},
		{"serializable suppresses (SET TRANSACTION before START)", []st{
			{1, 0, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", nil},
			{1, 1, "START TRANSACTION", nil},
			{1, 1, "SELECT value FROM counters WHERE id = ?", []string{"1"}},
			{1, 1, "UPDATE counters SET value = ? WHERE id = ?", []string{"5", "1"}},
			{1, 1, "COMMIT", nil},
		}, nil},
		{"stale check then unguarded debit", []st{
			{1, 0, "SELECT balance FROM accounts WHERE id = $1", []string{"7"}},
			{1, 0, "UPDATE accounts SET balance = balance - $1 WHERE id = $2 RETURNING balance", []string{"10", "7"}},
		}, []string{"toctou-debit accounts balance"}},
		{"conditional debit suppresses", []st{
			{1, 0, "SELECT balance FROM accounts WHERE id = $1", []string{"7"}},
			{1, 0, "UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance >= $3", []string{"10", "7", "10"}},
		}, nil},
		{"absolute write of a balance", []st{
			{1, 0, "SELECT balance FROM accounts WHERE id = $1", []string{"3"}},
			{1, 0, "UPDATE accounts SET balance = $1 WHERE id = $2", []string{"90", "3"}},
		}, []string{"toctou-debit accounts balance"}},
		{"select then insert without unique", []st{
			{1, 0, "SELECT id FROM orders WHERE idempotency_key = $1 LIMIT 1", []string{"k"}},
			{1, 0, "INSERT INTO orders (idempotency_key, item) VALUES ($1, $2) RETURNING id", []string{"k", "book"}},
		}, []string{"double-submit orders idempotency_key"}},
		{"unique index suppresses", []st{
			{1, 0, "SELECT id FROM favorites WHERE resource_id = ? AND user_id = ?", []string{"1", "2"}},
			{1, 0, "INSERT INTO favorites (resource_id, user_id) VALUES (?, ?)", []string{"1", "2"}},
		}, nil},
		{"ON CONFLICT suppresses", []st{
			{1, 0, "SELECT id FROM orders WHERE idempotency_key = $1", []string{"k"}},
			{1, 0, "INSERT INTO orders (idempotency_key, item) VALUES ($1, $2) ON CONFLICT DO NOTHING", []string{"k", "book"}},
		}, nil},
		{"INSERT IGNORE suppresses", []st{
			{1, 0, "SELECT id FROM orders WHERE idempotency_key = ?", []string{"k"}},
			{1, 0, "INSERT IGNORE INTO orders (idempotency_key, item) VALUES (?, ?)", []string{"k", "book"}},
		}, nil},
		{"idempotency key checked, work done, key recorded", []st{
			{1, 0, "SELECT 1 FROM processed_events WHERE event_id = $1", []string{"e"}},
			{1, 1, "BEGIN", nil},
			{1, 1, "UPDATE wallets SET balance = balance + $1 WHERE id = $2", []string{"5", "1"}},
			{1, 1, "INSERT INTO processed_events (event_id) VALUES ($1)", []string{"e"}},
			{1, 1, "COMMIT", nil},
		}, []string{"webhook-replay processed_events event_id"}},
		{"status overwritten blindly", []st{
			{1, 0, "UPDATE jobs SET status = $1 WHERE id = $2", []string{"done", "1"}},
		}, []string{"out-of-order-jobs jobs status"}},
		{"status compared suppresses", []st{
			{1, 0, "UPDATE jobs SET status = $1, job = $2 WHERE id = $3 AND job < $2", []string{"done", "4", "1"}},
		}, nil},
		{"upsert overwriting a job", []st{
			{1, 0, "INSERT INTO reports (id, job, result) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET job = excluded.job, result = excluded.result", nil},
		}, []string{"out-of-order-jobs reports job,result"}},
		{"upsert with a version guard", []st{
			{1, 0, "INSERT INTO reports (id, job, result) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET job = excluded.job, result = excluded.result WHERE reports.job < excluded.job", nil},
		}, nil},
		{"collection rewritten from a stale read", []st{
			{1, 0, "SELECT item FROM project_items WHERE project_id = $1 ORDER BY id", []string{"1"}},
			{1, 1, "BEGIN", nil},
			{1, 1, "DELETE FROM project_items WHERE project_id = $1", []string{"1"}},
			{1, 1, "INSERT INTO project_items (project_id, item) VALUES ($1, $2), ($3, $4)", []string{"1", "a", "1", "b"}},
			{1, 1, "COMMIT", nil},
		}, []string{"counter project_items item"}},
		{"a simple-protocol batch is read statement by statement", []st{
			{1, 1, "BEGIN; SELECT value FROM counters WHERE id = 1; UPDATE counters SET value = 6 WHERE id = 1; COMMIT", nil},
		}, []string{"counter counters value"}},
		{"a semicolon in a literal does not split", []st{
			{1, 0, "SELECT value FROM counters WHERE note = 'a;b' AND id = 1", nil},
		}, nil},
		{"failed statements are ignored", []st{
			{1, 0, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
			{1, 0, "!ERR UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := []string{}
			for _, f := range Analyze([]Trace{traceOf("POST /x", tc.stmts...)}, schema) {
				got = append(got, string(f.Class)+" "+f.Table+" "+strings.Join(f.Columns, ","))
				if f.Checker == "" || f.Fix == "" || f.Why == "" || len(f.Evidence) == 0 || !strings.HasPrefix(f.ID, "F-") {
					t.Errorf("incomplete finding %+v", f)
				}
				for _, e := range f.Evidence {
					for _, v := range []string{"book", "done", "'k'"} {
						if strings.Contains(e, v) {
							t.Errorf("evidence %q shows a value", e)
						}
					}
				}
			}
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestAnalyzeOrderAndDedup: findings of several traces come sorted by
// (Endpoint, Class, Table), one per triple, with IDs that depend on that
// triple only.
func TestAnalyzeOrderAndDedup(t *testing.T) {
	t.Parallel()
	lost := []st{
		{1, 0, "SELECT value FROM counters WHERE id = $1", []string{"1"}},
		{1, 0, "UPDATE counters SET value = $1 WHERE id = $2", []string{"5", "1"}},
	}
	blind := []st{{1, 0, "UPDATE jobs SET state = $1 WHERE id = $2", []string{"x", "1"}}}
	traces := []Trace{traceOf("POST /b", blind...), traceOf("POST /b", lost...), traceOf("POST /a", lost...), traceOf("POST /b", lost...)}
	fs := Analyze(traces, Schema{})
	var got []string
	for _, f := range fs {
		got = append(got, f.Endpoint+" "+string(f.Class)+" "+f.Table)
	}
	want := []string{"POST /a counter counters", "POST /b counter counters", "POST /b out-of-order-jobs jobs"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if fs[0].ID == fs[1].ID || fs[0].ID != findingID("POST /a", LostUpdate, "counters") {
		t.Errorf("IDs %s %s not per (endpoint, class, table)", fs[0].ID, fs[1].ID)
	}
	if again := Analyze(traces, Schema{}); !reflect.DeepEqual(again, fs) {
		t.Errorf("a second analysis differs")
	}
}

// TestRedactSQL: string literals become '?' and whitespace one space;
// placeholders stay; numbers become ? only in a statement sent without
// bound parameters (maybe interpolated by the driver).
func TestRedactSQL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		numbers  bool
		want     string
	}{
		{"strings and spaces", "SELECT id\n\t FROM t WHERE name = 'O''Brien' AND k = $1", false,
			"SELECT id FROM t WHERE name = '?' AND k = $1"},
		{"code constants kept with bound parameters", "UPDATE t SET v = v - 1 WHERE id = $1", false,
			"UPDATE t SET v = v - 1 WHERE id = $1"},
		{"interpolated numbers", "UPDATE t1 SET v = 12.5 WHERE id = 7", true,
			"UPDATE t1 SET v = ? WHERE id = ?"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := redactSQL(tc.in, tc.numbers); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestParse: the shallow reader on the shapes the rules rely on.
func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql string
		check     func(p parsed) bool
	}{
		{"schema-qualified table, backticks", "SELECT `value` FROM `shop`.`counters` WHERE `id` = ?",
			func(p parsed) bool { return p.table == "counters" && p.reads[0] == "value" && p.where[0].col == "id" }},
		{"select star and alias", `SELECT c.*, v AS x FROM counters c WHERE c.id = $1`,
			func(p parsed) bool { return p.star && p.reads[0] == "v" && p.where[0].col == "id" }},
		{"comments skipped", "/* hint */ SELECT value -- why\nFROM counters WHERE id = 1 FOR SHARE",
			func(p parsed) bool { return p.table == "counters" && p.forUpdate && p.where[0].val.text == "1" }},
		{"lock in share mode", `SELECT value FROM counters WHERE id = ? LOCK IN SHARE MODE`,
			func(p parsed) bool { return p.forUpdate }},
		{"on duplicate key update", `INSERT INTO kv (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)`,
			func(p parsed) bool {
				return p.onConflict && p.upsert && len(p.sets) == 1 && !p.sets[0].self && len(p.insertCols) == 2
			}},
		{"upsert self-relative", `INSERT INTO c (id, n) VALUES ($1, 1) ON CONFLICT (id) DO UPDATE SET n = c.n + 1`,
			func(p parsed) bool { return p.upsert && p.sets[0].self && p.conflictCols[0] == "id" }},
		{"debit with guard", `UPDATE accounts SET balance = balance - $1 WHERE id = $2 AND balance - $1 >= 0`,
			func(p parsed) bool { return p.sets[0].sub && guarded(p, "balance") }},
		{"set session serializable", `SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE`,
			func(p parsed) bool { return p.kind == kSetIsolation && p.session && p.serializable }},
		{"replace into", `REPLACE INTO kv (k, v) VALUES (?, ?)`,
			func(p parsed) bool { return p.kind == kInsert && p.onConflict }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if p := parse(tc.sql); !tc.check(p) {
				t.Errorf("parse(%q) = %+v", tc.sql, p)
			}
		})
	}
}
