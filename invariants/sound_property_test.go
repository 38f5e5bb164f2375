package invariants

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
)

// The soundness property (issue 14): for every checker, generate a run of a
// safe service — its ops, which of them took effect, and the database state
// they leave — and then
//
//	(a) mark ops unknown at random (a cut response: no status, no captures;
//	    an unknown op's effect randomly kept or dropped from the final
//	    state): the checker must never FAIL or ERROR;
//	(b) drop the effect of one acknowledged op from the final state: the
//	    checker must FAIL, for the classes that can see it.
//
// Every check runs against a real SQLite database file holding the generated
// states; the history goes through a real history.jsonl.

// soundOp is one generated op and the truth about it.
type soundOp struct {
	op hOp
	// applied says whether the op took effect.
	applied bool
}

// soundRun is one generated run.
type soundRun struct {
	// setup creates the state after setup (before Prepare).
	setup []string
	ops   []soundOp
	// final gives the statements that turn the state after setup into the
	// state the ops that took effect (applied[i] for ops[i]) leave.
	final func(ops []soundOp, applied []bool) []string
	// visible, when set, reports whether dropping the effect of op i (ok
	// and applied) must make the checker fail; nil when the class cannot
	// see a dropped effect (the checker reads no effects, or they cancel).
	visible func(ops []soundOp, applied []bool, i int) bool
}

// soundModel is one checker configuration and its generator.
type soundModel struct {
	name string
	inv  flatInv
	ops  []string // Env.Operations
	gen  func(t *rapid.T) soundRun
	// open says the checker's bound opens (verdict unknown) when an op is
	// cut: (b) is then checked only on runs without unknown ops.
	open bool
}

// cutOp turns o into an op whose response never arrived: no status, no
// captures (they come from the response body), a transport error.
func cutOp(o hOp) hOp {
	o.Outcome = hUnk
	o.Status = 0
	o.Error = "read tcp: connection reset by peer"
	o.Captures = nil
	return o
}

// soundDB is a SQLite database file for one property, reset between
// checks: every table a generator creates is dropped first.
type soundDB struct {
	db  database.DB
	dir string
	n   atomic.Int64
}

func newSoundDB(t *testing.T) *soundDB {
	// Every check rewrites the tables: without fsync (synchronous off) a
	// check takes a millisecond instead of tens.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := database.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "sound.db")+"?_pragma=synchronous(off)")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return &soundDB{db: db, dir: t.TempDir()}
}

// checkState runs inv's checker over ops (the history) with setup before
// Prepare and final after it, and returns its result.
func (s *soundDB) checkState(t *rapid.T, m soundModel, setup, final []string, ops []hOp) Result {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, table := range []string{"counters", "accounts", "items", "results", "docs", "orders", "regs"} {
		if err := s.db.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			t.Fatalf("drop %s: %v", table, err)
		}
	}
	for _, q := range setup {
		if err := s.db.Exec(ctx, q); err != nil {
			t.Fatalf("setup %q: %v", q, err)
		}
	}
	c, err := testNew(m.inv)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env := &Env{DB: s.db, Operations: m.ops}
	dir := filepath.Join(s.dir, fmt.Sprint(s.n.Add(1)))
	env.HistoryPath, env.Tally = writeSoundHistory(t, mkdir(t, dir), ops)
	if p, ok := c.(Preparer); ok {
		if err := p.Prepare(ctx, env); err != nil {
			t.Fatalf("Prepare: %v", err)
		}
	}
	for _, q := range final {
		if err := s.db.Exec(ctx, q); err != nil {
			t.Fatalf("final state %q: %v", q, err)
		}
	}
	return c.Check(ctx, env)
}

// describe is a run for a failure message: one line per op.
func describeOps(ops []hOp, applied []bool) string {
	var b strings.Builder
	for i, o := range ops {
		fmt.Fprintf(&b, "\n  #%d %s key=%q %s values=%v captures=%v applied=%v", o.ID, o.Op, o.Key, o.Outcome, o.Values, o.Captures, applied[i])
	}
	return b.String()
}

func resultText(r Result) string {
	return fmt.Sprintf("%s: actual %q, evidence %q, error %q", r.Verdict, r.Actual, r.Evidence, r.Error)
}

// checkSound is the property for one model.
func checkSound(t *testing.T, m soundModel) {
	s := newSoundDB(t)
	rapid.Check(t, func(t *rapid.T) {
		run := m.gen(t)
		ops := make([]hOp, len(run.ops))
		applied := make([]bool, len(run.ops))
		share := rapid.Float64Range(0, 1).Draw(t, "unknown share")
		for i, so := range run.ops {
			ops[i], applied[i] = so.op, so.applied
			if rapid.Float64Range(0, 1).Draw(t, fmt.Sprintf("op %d cut?", i)) < share {
				ops[i] = cutOp(so.op)
				if so.applied {
					applied[i] = rapid.Bool().Draw(t, fmt.Sprintf("op %d effect kept", i))
				}
			}
		}
		// (a) unknown outcomes never make the checker fail or error.
		res := s.checkState(t, m, run.setup, run.final(run.ops, applied), ops)
		if res.Verdict == Fail || res.Verdict == Error {
			t.Fatalf("(a) %s with unknown ops: %s\nops:%s", m.name, resultText(res), describeOps(ops, applied))
		}
		if run.visible == nil {
			return
		}
		if m.open && slices.ContainsFunc(ops, func(o hOp) bool { return o.Outcome == hUnk }) {
			return
		}
		// (b) dropping the effect of an acknowledged op fails the check. The
		// unknown ops' effects are dropped too: one that took effect could
		// stand in for the lost one, and no checker can tell which it was.
		lost := append([]bool(nil), applied...)
		for i := range ops {
			if ops[i].Outcome == hUnk {
				lost[i] = false
			}
		}
		var acked []int
		for i := range ops {
			if ops[i].Outcome == hOK && lost[i] && run.visible(run.ops, lost, i) {
				acked = append(acked, i)
			}
		}
		if len(acked) == 0 {
			return
		}
		drop := rapid.SampledFrom(acked).Draw(t, "dropped acknowledged op")
		lost[drop] = false
		res = s.checkState(t, m, run.setup, run.final(run.ops, lost), ops)
		if res.Verdict != Fail {
			t.Fatalf("(b) %s without the effect of acknowledged op #%d: %s, want fail\nops:%s", m.name, ops[drop].ID, resultText(res), describeOps(ops, lost))
		}
	})
}

// drawCount draws how many ops a run has, 1 to max.
func drawCount(t *rapid.T, max int) int { return rapid.IntRange(1, max).Draw(t, "ops") }

// at is an op's invoke time in ms after t0: ops are spread 2 ms apart.
func at(i int) int { return 2 * i }

// --- counter, expect, per_key counter --------------------------------------

func counterGen(valueFrom string) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		before := rapid.IntRange(0, 100).Draw(t, "before")
		n := drawCount(t, 30)
		var ops []soundOp
		for i := range n {
			ok := rapid.IntRange(0, 4).Draw(t, "outcome") > 0 // a fifth rejected
			out := hOK
			if !ok {
				out = hFail
			}
			o := hop(uint64(i+1), "incr", "", out, at(i), 5)
			if valueFrom != "" {
				o = o.val(valueFrom, fmt.Sprint(rapid.IntRange(1, 5).Draw(t, "amount")))
			}
			ops = append(ops, soundOp{op: o, applied: ok})
		}
		return soundRun{
			setup: counterAt(fmt.Sprint(before)),
			ops:   ops,
			final: func(ops []soundOp, applied []bool) []string {
				v := before
				for i, so := range ops {
					if applied[i] {
						v += amountOf(so.op, valueFrom, 1)
					}
				}
				return []string{fmt.Sprintf("UPDATE counters SET value = %d WHERE id = 1", v)}
			},
			visible: func([]soundOp, []bool, int) bool { return true },
		}
	}
}

// amountOf is op o's amount: its value or capture named valueFrom, or def.
func amountOf(o hOp, valueFrom string, def int) int {
	if valueFrom == "" {
		return def
	}
	v, _ := opValue((*history.Op)(&o), valueFrom)
	var n int
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// answered makes the service answer each op's key as the capture name:
// what a profile groups by with group: name. A cut response loses it.
func answered(gen func(*rapid.T) soundRun, name string) func(*rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		run := gen(t)
		for i := range run.ops {
			run.ops[i].op = run.ops[i].op.capt(name, run.ops[i].op.Key)
		}
		return run
	}
}

// captured moves each op's rendered value name into its captures: the
// service decided it and answered it (a cut response loses it).
func captured(gen func(*rapid.T) soundRun, name string) func(*rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		run := gen(t)
		for i := range run.ops {
			o := &run.ops[i].op
			if v, ok := o.Values[name]; ok {
				var n float64
				fmt.Sscan(v, &n)
				vals := map[string]string{}
				for k, x := range o.Values {
					if k != name {
						vals[k] = x
					}
				}
				o.Values = vals
				*o = o.capt(name, n)
			}
		}
		return run
	}
}

// perKeyCounterGen: increments of three counters. With group, each ok
// answer names its counter (a capture named group): a cut response loses it.
func perKeyCounterGen(group string) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun { return perKeyCounterRun(t, group) }
}

func perKeyCounterRun(t *rapid.T, group string) soundRun {
	n := drawCount(t, 30)
	var ops []soundOp
	for i := range n {
		ok := rapid.IntRange(0, 4).Draw(t, "outcome") > 0
		out := hOK
		if !ok {
			out = hFail
		}
		k := fmt.Sprint(rapid.IntRange(1, 3).Draw(t, "key"))
		o := hop(uint64(i+1), "incr", k, out, at(i), 5)
		if group != "" && ok {
			o = o.capt(group, k)
		}
		ops = append(ops, soundOp{op: o, applied: ok})
	}
	return soundRun{
		setup: []string{counterSetup, `INSERT INTO counters (id, value) VALUES (1, 10), (2, 20), (3, 30)`},
		ops:   ops,
		final: func(ops []soundOp, applied []bool) []string {
			var stmts []string
			for i, so := range ops {
				if applied[i] {
					stmts = append(stmts, "UPDATE counters SET value = value + 1 WHERE id = "+so.op.Key)
				}
			}
			return stmts
		},
		visible: func([]soundOp, []bool, int) bool { return true },
	}
}

// --- bounded_debits, conservation, never_negative ---------------------------

// debitGen: debits of one account that a safe service applies only while
// the balance covers them (else 409).
func debitGen(valueFrom string) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		before := rapid.IntRange(0, 200).Draw(t, "balance")
		n := drawCount(t, 30)
		bal := before
		var ops []soundOp
		for i := range n {
			amt := 10
			o := hop(uint64(i+1), "debit", "1", hOK, at(i), 5)
			if valueFrom != "" {
				amt = rapid.IntRange(1, 40).Draw(t, "amount")
				o = o.val(valueFrom, fmt.Sprint(amt))
			}
			ok := bal >= amt
			if ok {
				bal -= amt
			} else {
				o.Outcome, o.Status = hFail, 409
			}
			ops = append(ops, soundOp{op: o, applied: ok})
		}
		return soundRun{
			setup: []string{`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT)`, fmt.Sprintf(`INSERT INTO accounts (id, balance) VALUES (1, %d)`, before)},
			ops:   ops,
			final: func(ops []soundOp, applied []bool) []string {
				v := before
				for i, so := range ops {
					if applied[i] {
						v -= amountOf(so.op, valueFrom, 10)
					}
				}
				return []string{fmt.Sprintf("UPDATE accounts SET balance = %d WHERE id = 1", v)}
			},
			visible: func([]soundOp, []bool, int) bool { return true },
		}
	}
}

// transferGen: transfers between four accounts that a safe service makes
// in one transaction, only when the payer's balance covers them.
func transferGen(t *rapid.T) soundRun {
	bal := []int{0, 50, 50, 50, 50}
	n := drawCount(t, 30)
	type tr struct{ from, to, amt int }
	var trs []tr
	var ops []soundOp
	for i := range n {
		from := rapid.IntRange(1, 4).Draw(t, "from")
		to := rapid.IntRange(1, 4).Filter(func(x int) bool { return x != from }).Draw(t, "to")
		amt := rapid.IntRange(1, 40).Draw(t, "amount")
		o := hop(uint64(i+1), "transfer", fmt.Sprint(from), hOK, at(i), 5).val("to", fmt.Sprint(to)).val("amount", fmt.Sprint(amt))
		ok := bal[from] >= amt
		if ok {
			bal[from] -= amt
			bal[to] += amt
		} else {
			o.Outcome, o.Status = hFail, 409
		}
		trs = append(trs, tr{from, to, amt})
		ops = append(ops, soundOp{op: o, applied: ok})
	}
	return soundRun{
		setup: []string{`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance BIGINT)`, `INSERT INTO accounts (id, balance) VALUES (1, 50), (2, 50), (3, 50), (4, 50)`},
		ops:   ops,
		// Dropping a transfer's effect (unknown or acknowledged) moves
		// no money: the total and the signs cannot show it.
		// A transfer whose payer could not cover it once unknown ones
		// before it were dropped is rejected, as the safe service would.
		final: func(ops []soundOp, applied []bool) []string {
			var stmts []string
			bal := []int{0, 50, 50, 50, 50}
			for i, x := range trs {
				if applied[i] && bal[x.from] >= x.amt {
					bal[x.from] -= x.amt
					bal[x.to] += x.amt
					stmts = append(stmts, fmt.Sprintf("UPDATE accounts SET balance = balance - %d WHERE id = %d", x.amt, x.from),
						fmt.Sprintf("UPDATE accounts SET balance = balance + %d WHERE id = %d", x.amt, x.to))
				}
			}
			return stmts
		},
	}
}

// --- all_present -------------------------------------------------------------

// addGen: adds to a collection. With capture, the service assigns each
// item's id and answers it (a cut response loses it); else the request
// carries its own uuid.
func addGen(capture bool) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		n := drawCount(t, 30)
		var ops []soundOp
		for i := range n {
			ok := rapid.IntRange(0, 4).Draw(t, "outcome") > 0
			out := hOK
			if !ok {
				out = hFail
			}
			o := hop(uint64(i+1), "add", "p-1", out, at(i), 5)
			if capture {
				if ok {
					o = o.status(201).capt("id", float64(1000+i)) // JSON numbers decode as float64
				}
			} else {
				o = o.val("uuid", fmt.Sprintf("u-%d", i+1))
			}
			ops = append(ops, soundOp{op: o, applied: ok})
		}
		return soundRun{
			setup: []string{`CREATE TABLE items (id VARCHAR(40))`, `INSERT INTO items (id) VALUES ('seed-1'), ('seed-2')`},
			ops:   ops,
			final: func(ops []soundOp, applied []bool) []string {
				var stmts []string
				for i := range ops {
					if !applied[i] {
						continue
					}
					id := fmt.Sprintf("u-%d", i+1)
					if capture {
						id = fmt.Sprint(1000 + i)
					}
					stmts = append(stmts, fmt.Sprintf("INSERT INTO items (id) VALUES ('%s')", id))
				}
				return stmts
			},
			visible: func([]soundOp, []bool, int) bool { return true },
		}
	}
}

// --- newest_wins -------------------------------------------------------------

// jobGen: jobs per report, numbered in the order they were pressed; a safe
// service stores a job's result only when it is newer than the stored one
// (compare-and-set), so each key ends at its newest job that took effect.
// With capture, the service assigns the job number and answers it.
func jobGen(capture bool) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		n := drawCount(t, 30)
		var ops []soundOp
		for i := range n {
			k := fmt.Sprintf("asset-%d", rapid.IntRange(1, 3).Draw(t, "key"))
			o := hop(uint64(i+1), "regen", k, hOK, at(i), rapid.IntRange(1, 60).Draw(t, "took"))
			if capture {
				o = o.capt("job", float64(i+1))
			} else {
				o = o.val("seq", fmt.Sprint(i+1))
			}
			ops = append(ops, soundOp{op: o, applied: true})
		}
		final := func(ops []soundOp, applied []bool) map[string]int {
			m := map[string]int{}
			for i, so := range ops {
				if applied[i] && i+1 > m[so.op.Key] {
					m[so.op.Key] = i + 1
				}
			}
			return m
		}
		return soundRun{
			setup: []string{`CREATE TABLE results (k VARCHAR(20) PRIMARY KEY, seq INTEGER)`, `INSERT INTO results (k, seq) VALUES ('asset-1', 0), ('asset-2', 0), ('asset-3', 0)`},
			ops:   ops,
			final: func(ops []soundOp, applied []bool) []string {
				var stmts []string
				m := final(ops, applied)
				for _, k := range sortedKeys(m) {
					stmts = append(stmts, fmt.Sprintf("UPDATE results SET seq = %d WHERE k = '%s'", m[k], k))
				}
				return stmts
			},
			// Only the newest job of its key shows when its result is lost.
			visible: func(ops []soundOp, applied []bool, i int) bool { return final(ops, applied)[ops[i].op.Key] == i+1 },
		}
	}
}

// --- no_lost_update ----------------------------------------------------------

// saveGen: conditional saves of three documents; a safe service accepts a
// save only when its base version is the current one, and bumps it.
// With group, each ok answer names its document (a capture named group).
func saveGen(group string) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun { return saveRun(t, group) }
}

func saveRun(t *rapid.T, group string) soundRun {
	cur := map[string]int{"1": 5, "2": 5, "3": 5}
	n := drawCount(t, 30)
	var ops []soundOp
	for i := range n {
		k := fmt.Sprint(rapid.IntRange(1, 3).Draw(t, "doc"))
		base := cur[k]
		stale := rapid.IntRange(0, 3).Draw(t, "stale") == 0 && base > 5
		o := hop(uint64(i+1), "save", k, hOK, at(i), 5)
		if stale {
			base -= rapid.IntRange(1, base-5).Draw(t, "behind")
			o.Outcome, o.Status = hFail, 409
		} else {
			cur[k]++
			if group != "" {
				o = o.capt(group, k)
			}
		}
		ops = append(ops, soundOp{op: o.val("version", fmt.Sprint(base)), applied: !stale})
	}
	return soundRun{
		setup: []string{`CREATE TABLE docs (id INTEGER PRIMARY KEY, version INTEGER)`, `INSERT INTO docs (id, version) VALUES (1, 5), (2, 5), (3, 5)`},
		ops:   ops,
		final: func(ops []soundOp, applied []bool) []string {
			var stmts []string
			for i, so := range ops {
				if applied[i] {
					stmts = append(stmts, "UPDATE docs SET version = version + 1 WHERE id = "+so.op.Key)
				}
			}
			return stmts
		},
		visible: func([]soundOp, []bool, int) bool { return true },
	}
}

// --- exactly_one, unique ------------------------------------------------------

// orderGen: copies of one create per idempotency key; a safe service lets
// one win (201, the order's id) and rejects the rest (409) or, with
// replays, answers them the winner's id.
func orderGen(replays bool) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun {
		keys := rapid.IntRange(1, 5).Draw(t, "keys")
		var ops []soundOp
		id := uint64(0)
		for k := range keys {
			copies := rapid.IntRange(1, 5).Draw(t, "copies")
			winner := rapid.IntRange(0, copies-1).Draw(t, "winner")
			for c := range copies {
				id++
				o := hop(id, "submit", fmt.Sprintf("order-%d", k+1), hOK, at(int(id)), 10)
				switch {
				case c == winner:
					o = o.status(201).capt("id", float64(100+k))
				case replays:
					o = o.capt("id", float64(100+k))
				default:
					o.Outcome, o.Status = hFail, 409
				}
				ops = append(ops, soundOp{op: o, applied: c == winner})
			}
		}
		return soundRun{
			setup: []string{`CREATE TABLE orders (id INTEGER, idem VARCHAR(20))`},
			ops:   ops,
			final: func(ops []soundOp, applied []bool) []string {
				var stmts []string
				for i, so := range ops {
					if applied[i] {
						stmts = append(stmts, fmt.Sprintf("INSERT INTO orders (id, idem) VALUES (%d, '%s')", so.op.ID, so.op.Key))
					}
				}
				return stmts
			},
		}
	}
}

// --- locks -------------------------------------------------------------------

// lockGen: holds of two locks, one holder at a time per lock (each hold
// shorter than the TTL); acquires that come while a holder holds are
// rejected with 423.
// With group, every answer (ok or 423) names its lock (a capture named
// group).
func lockGen(group string) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun { return lockRun(t, group) }
}

func lockRun(t *rapid.T, group string) soundRun {
	var ops []soundOp
	id := uint64(0)
	for _, k := range []string{"lock-1", "lock-2"} {
		cur := rapid.IntRange(0, 20).Draw(t, "start")
		holds := rapid.IntRange(0, 6).Draw(t, "holds")
		for range holds {
			id++
			acq := cur + rapid.IntRange(0, 5).Draw(t, "to acquire")
			rel := acq + rapid.IntRange(1, 150).Draw(t, "held")
			end := rel + rapid.IntRange(0, 5).Draw(t, "to answer")
			o := holdOp(id, hOK, cur, end-cur, acq, rel, fmt.Sprintf("t%d", id))
			o.Key = k
			if group != "" {
				o = o.capt(group, k)
			}
			ops = append(ops, soundOp{op: o, applied: true})
			for range rapid.IntRange(0, 3).Draw(t, "rejections") {
				id++
				r := rapid.IntRange(acq, rel-1).Draw(t, "rejected at")
				ro := holdOp(id, hFail, r, 1, 0, 0, "")
				ro.Key = k
				if group != "" {
					ro = ro.capt(group, k)
				}
				ops = append(ops, soundOp{op: ro})
			}
			cur = end + rapid.IntRange(0, 400).Draw(t, "idle")
		}
	}
	if len(ops) == 0 {
		o := holdOp(1, hOK, 0, 10, 1, 9, "t1")
		if group != "" {
			o = o.capt(group, o.Key)
		}
		ops = append(ops, soundOp{op: o, applied: true})
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].op.Invoke.Before(ops[j].op.Invoke) })
	return soundRun{ops: ops, final: func([]soundOp, []bool) []string { return nil }}
}

// --- linearizable ------------------------------------------------------------

// registerGen: reads and writes of two registers, each taking effect at
// its own instant (10 ms apart) inside its request; a write may not take
// effect (then it failed or its outcome is unknown). Reads return the value
// at their instant.
// With assigned, the service assigns each written value (a version) and
// answers it: a cut response loses it.
func registerGen(assigned bool) func(t *rapid.T) soundRun {
	return func(t *rapid.T) soundRun { return registerRun(t, assigned) }
}

func registerRun(t *rapid.T, assigned bool) soundRun {
	n := drawCount(t, 24)
	val := map[string]int{"a": 0, "b": 0}
	var ops []soundOp
	for i := range n {
		k := rapid.SampledFrom([]string{"a", "b"}).Draw(t, "key")
		point := 10 * (i + 1)
		before := rapid.IntRange(0, 25).Draw(t, "called before")
		after := rapid.IntRange(0, 25).Draw(t, "returned after")
		if rapid.Bool().Draw(t, "write?") {
			took := rapid.IntRange(0, 3).Draw(t, "took effect") > 0
			out := hOK
			if !took {
				out = hFail
			}
			o := hop(uint64(i+1), "put", k, out, point-before, before+after)
			if !assigned {
				o = o.val("seq", fmt.Sprint(i+1))
			} else if took {
				o = o.capt("seq", float64(i+1))
			}
			if took {
				val[k] = i + 1
			}
			ops = append(ops, soundOp{op: o, applied: took})
		} else {
			o := hop(uint64(i+1), "get", k, hOK, point-before, before+after).capt("value", float64(val[k]))
			ops = append(ops, soundOp{op: o})
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].op.Invoke.Before(ops[j].op.Invoke) })
	return soundRun{
		setup: []string{`CREATE TABLE regs (k VARCHAR(10), v INTEGER)`, `INSERT INTO regs VALUES ('a', 0), ('b', 0)`},
		ops:   ops,
		final: func([]soundOp, []bool) []string { return nil },
	}
}

// writeSoundHistory is writeHistory for a rapid.T.
func writeSoundHistory(t *rapid.T, dir string, ops []hOp) (string, *history.Tally) {
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		op := history.Op(ops[i])
		if err := w.Append(&op); err != nil {
			t.Fatal(err)
		}
	}
	tally := w.Tally()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tally
}

// mkdir creates dir for a history file.
func mkdir(t *rapid.T, dir string) string {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var soundModels = []soundModel{
	{name: "counter", inv: counterInv, ops: []string{"incr"}, gen: counterGen("")},
	{name: "counter value_from", ops: []string{"incr"}, inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }), gen: counterGen("n")},
	{name: "counter per_key", ops: []string{"incr"}, inv: flatInv{Name: "per key", Check: "counter", Op: "incr", PerKey: true, Query: `SELECT id, value FROM counters`}, gen: perKeyCounterGen("")},
	{name: "counter per_key grouped by an answered key", ops: []string{"incr"}, inv: flatInv{Name: "per key", Check: "counter", Op: "incr", PerKey: true, Group: "counter", Query: `SELECT id, value FROM counters`}, gen: perKeyCounterGen("counter")},
	{name: "expect bound", inv: flatInv{Name: "bound", Query: `SELECT value FROM counters WHERE id = 1`,
		Expect: `value - before.value >= ok("incr") && value - before.value <= ok("incr") + unknown("incr")`}, ops: []string{"incr"}, gen: counterGen("")},
	{name: "bounded_debits", ops: []string{"debit"}, inv: with(debitInv, func(i *flatInv) { i.Floor = ptrTo(0.0) }), gen: debitGen("")},
	{name: "bounded_debits value_from", ops: []string{"debit"}, inv: with(debitInv, func(i *flatInv) { i.Amount, i.ValueFrom, i.Floor = 0, "amount", ptrTo(0.0) }), gen: debitGen("amount")},
	{name: "conservation", ops: []string{"transfer"}, inv: conservedInv, gen: transferGen},
	{name: "never_negative", ops: []string{"transfer"}, inv: nonNegInv, gen: transferGen},
	{name: "all_present uuid", ops: []string{"add"}, inv: presentInv, gen: addGen(false)},
	{name: "all_present assigned id", ops: []string{"add"}, inv: with(presentInv, func(i *flatInv) { i.ValueFrom = "id" }), gen: addGen(true)},
	{name: "newest_wins seq", ops: []string{"regen"}, inv: newestInv, gen: jobGen(false)},
	{name: "newest_wins grouped by an answered key", ops: []string{"regen"}, inv: with(newestInv, func(i *flatInv) { i.Group = "asset" }), gen: answered(jobGen(false), "asset")},
	{name: "exactly_one grouped by an answered key", ops: []string{"submit"}, inv: with(exactlyOneInv, func(i *flatInv) { i.Group = "order"; i.Require = true }), gen: answered(orderGen(false), "order")},
	{name: "counter captured amounts", ops: []string{"incr"}, open: true, inv: with(counterInv, func(i *flatInv) { i.ValueFrom = "n" }), gen: captured(counterGen("n"), "n")},
	{name: "bounded_debits captured amounts", ops: []string{"debit"}, open: true, inv: with(debitInv, func(i *flatInv) { i.Amount, i.ValueFrom, i.Floor = 0, "amount", ptrTo(0.0) }), gen: captured(debitGen("amount"), "amount")},
	{name: "newest_wins assigned job", ops: []string{"regen"}, inv: with(newestInv, func(i *flatInv) { i.VersionFrom = "job" }), gen: jobGen(true)},
	{name: "no_lost_update", ops: []string{"save"}, inv: noLostInv, gen: saveGen("")},
	{name: "no_lost_update grouped by an answered document", ops: []string{"save"}, inv: with(noLostInv, func(i *flatInv) { i.Group = "doc" }), gen: saveGen("doc")},
	{name: "no_lost_update base version", ops: []string{"save"}, inv: with(noLostInv, func(i *flatInv) { i.VersionFrom = "version" }), gen: saveGen("")},
	{name: "exactly_one", ops: []string{"submit"}, inv: exactlyOneInv, gen: orderGen(false)},
	{name: "exactly_one require", ops: []string{"submit"}, inv: with(exactlyOneInv, func(i *flatInv) { i.Require = true }), gen: orderGen(false)},
	{name: "exactly_one replays", ops: []string{"submit"}, inv: with(exactlyOneInv, func(i *flatInv) { i.ValueFrom, i.Require = "id", true }), gen: orderGen(true)},
	{name: "unique", ops: []string{"submit"}, inv: flatInv{Name: "one order per key", Unique: `SELECT idem FROM orders`}, gen: orderGen(false)},
	{name: "locks", ops: []string{"hold"}, inv: locksInv, gen: lockGen("")},
	{name: "locks named in the answer", ops: []string{"hold"}, inv: with(locksInv, func(i *flatInv) { i.Group = "lock" }), gen: lockGen("lock")},
	{name: "linearizable", ops: []string{"get", "put"}, inv: with(linInv, func(i *flatInv) { i.Query = `SELECT k, v FROM regs` }), gen: registerGen(false)},
	{name: "linearizable assigned values", ops: []string{"get", "put"}, inv: with(linInv, func(i *flatInv) { i.Query = `SELECT k, v FROM regs` }), gen: registerGen(true)},
}

// TestSoundUnderUnknown runs the soundness property for every checker.
func TestSoundUnderUnknown(t *testing.T) {
	checkers := map[string]bool{}
	for _, m := range soundModels {
		checkers[testCheckName(m.inv)] = true
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			checkSound(t, m)
		})
	}
	for _, name := range Names() {
		if !checkers[name] {
			t.Errorf("checker %s has no soundness model in soundModels", name)
		}
	}
}
