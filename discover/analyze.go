package discover

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/collide-dev/collide/chaos/tap"
)

// The rules, each over the statements of one trace in start order (across
// its connections, in or out of transactions):
//
//	read-then-write  SELECT cols FROM t [WHERE k = …], later UPDATE t SET c = …
//	                 (or an upsert's DO UPDATE) of the same rows (no WHERE on
//	                 the read, or a shared equality column whose values, when
//	                 known, agree), c read and written with a value not
//	                 computed from itself (a parameter, a literal,
//	                 excluded.c): LostUpdate. Not when the WHERE of the write
//	                 compares c (conditional), nor when the read was FOR
//	                 UPDATE/FOR SHARE in the write's transaction, nor in a
//	                 SERIALIZABLE transaction holding both. A write c = c - x
//	                 after a read of c without a guard on c in its WHERE is a
//	                 stale check: TOCTOUDebit, as is any flagged column named
//	                 like a quantity (the debit rule, debitName).
//	rewrite          SELECT … WHERE k = …, then DELETE FROM t WHERE k = … and
//	                 INSERT INTO t (k, …): the rows are rewritten from a stale
//	                 read: LostUpdate.
//	select-insert    SELECT … FROM t WHERE k1 = … AND k2 = …, later INSERT
//	                 INTO t (k1, k2, …) without ON CONFLICT/IGNORE, where no
//	                 unique column set of t lies within {k1, k2}:
//	                 DoubleSubmit; IdempotencyKey when t or a k is named like
//	                 a key or event (idemName) and the request writes other
//	                 tables after the check.
//	newest-wins      UPDATE t SET status|state|version|result|job = … (or an
//	                 upsert's DO UPDATE of one) not computed from itself, with
//	                 none of those columns compared in its WHERE: NewestWins.

// debitName is the debit rule: a read-then-written column with such a name
// holds a quantity the service checks before it lowers it.
var debitName = regexp.MustCompile(`(^|_)(balance|stock|quantity|qty|inventory|credits?|funds|seats|available|remaining|limit|quota)($|_)`)

// idemName names tables and columns that hold idempotency or event keys.
var idemName = regexp.MustCompile(`idempot|event|processed|dedup|nonce|(^|_)keys?($|_)`)

// statusName names columns whose newest value must win.
var statusName = regexp.MustCompile(`^(status|state|version|result|job|stage|phase|revision)$|_(status|state|version|job)$`)

// The checker each class's built-in profile proves it with.
var classChecker = map[Class]string{
	LostUpdate:     "counter",
	TOCTOUDebit:    "never_negative",
	DoubleSubmit:   "unique",
	IdempotencyKey: "unique",
	NewestWins:     "newest_wins",
}

// The remedy of each class, from the fix list (seed 001).
var classFix = map[Class]string{
	LostUpdate:     "Use atomic database operations: replace the read-modify-write with one UPDATE computed from the stored value (SET value = value + 1), or add optimistic locking (WHERE version = expected, retry on conflict).",
	TOCTOUDebit:    "Make the check and the debit one atomic statement (UPDATE … SET balance = balance - ? WHERE id = ? AND balance >= ?, no row updated means refuse), or lock the row with SELECT … FOR UPDATE in the debit's transaction.",
	DoubleSubmit:   "Enforce the key in the database: a unique index on the key columns and INSERT … ON CONFLICT DO NOTHING, then read the existing row.",
	IdempotencyKey: "Implement idempotency keys atomically: insert the key under a unique index (ON CONFLICT DO NOTHING) first, in the transaction that does the work, and do the work only when that insert took.",
	NewestWins:     "Add optimistic locking: compare the version or job number in the WHERE (… WHERE id = ? AND job < ?) so an older write cannot overwrite a newer one.",
}

// rewriteFix is the remedy of a collection rewritten from a stale read.
const rewriteFix = "Use atomic database operations: insert or delete only the rows that change instead of rewriting the whole set, or lock the parent with SELECT … FOR UPDATE before the read, in the rewrite's transaction."

// step is one statement of a trace, read.
type step struct {
	pos int // its number in the trace, from 1
	st  tap.Statement
	p   parsed
}

type txnKey struct {
	conn uint64
	txn  int
}

// Analyze finds race candidates in traces, using s's unique keys to tell
// a guarded insert from an unguarded one. Findings are sorted by
// (Endpoint, Class, Table), one per such triple (the first trace's
// evidence, the columns of all), with stable IDs.
func Analyze(traces []Trace, s Schema) []Finding {
	var all []Finding
	for _, t := range traces {
		if t.Request.Setup {
			continue
		}
		all = append(all, analyzeTrace(t, s)...)
	}
	return merge(all)
}

func analyzeTrace(t Trace, s Schema) []Finding {
	stmts := slices.Clone(t.Statements)
	sort.SliceStable(stmts, func(i, j int) bool { return stmts[i].Start.Before(stmts[j].Start) })
	steps := make([]step, 0, len(stmts))
	for _, st := range stmts {
		parts := splitStatements(st.Text)
		if len(parts) <= 1 {
			steps = append(steps, step{pos: len(steps) + 1, st: st, p: parse(st.Text)})
			continue
		}
		for _, part := range parts { // a batch: one step per statement
			one := st
			one.Text = part
			steps = append(steps, step{pos: len(steps) + 1, st: one, p: parse(part)})
		}
	}
	a := analysis{trace: t, schema: s, steps: steps, serializable: serializableTxns(steps),
		flaggedWrite: map[int]bool{}, consumedInsert: map[int]bool{}}
	a.readThenWrite()
	a.rewrites()
	a.selectInsert()
	a.newestWins()
	return a.found
}

type analysis struct {
	trace          Trace
	schema         Schema
	steps          []step
	serializable   map[txnKey]bool
	flaggedWrite   map[int]bool // positions of writes a read-then-write finding names
	consumedInsert map[int]bool // inserts a rewrite finding names
	found          []Finding
}

// serializableTxns marks the transactions that ran SERIALIZABLE: begun so,
// set so inside, or following SET TRANSACTION (next transaction) or SET
// SESSION CHARACTERISTICS (all later ones) on their connection.
func serializableTxns(steps []step) map[txnKey]bool {
	out := map[txnKey]bool{}
	pending := map[uint64]bool{}
	session := map[uint64]bool{}
	for _, s := range steps {
		c := s.st.ConnID
		if s.p.serializable && s.p.kind == kSetIsolation && !s.st.InTxn {
			if s.p.session {
				session[c] = true
			} else {
				pending[c] = true
			}
			continue
		}
		if s.p.serializable && s.p.kind == kSetIsolation && s.p.session {
			session[c] = true
		}
		if !s.st.InTxn {
			continue
		}
		k := txnKey{c, s.st.TxnID}
		if s.p.serializable || session[c] || pending[c] {
			out[k] = true
			pending[c] = false
		}
	}
	return out
}

func (a *analysis) ok(s step) bool { return s.st.Err == "" && s.p.table != "" }

func sameTxn(x, y step) bool {
	return x.st.InTxn && y.st.InTxn && x.st.ConnID == y.st.ConnID && x.st.TxnID == y.st.TxnID
}

func (a *analysis) serial(x, y step) bool {
	return sameTxn(x, y) && a.serializable[txnKey{x.st.ConnID, x.st.TxnID}]
}

// value resolves a predicate's value to text: a parameter's bound value, a
// literal's text; ok is false when unknown.
func value(st tap.Statement, v token) (string, bool) {
	switch v.kind {
	case tParam:
		if v.n >= 1 && v.n <= len(st.Params) && !st.Params[v.n-1].Null {
			return st.Params[v.n-1].String(), true
		}
	case tNumber:
		return v.text, true
	case tString:
		return strings.Trim(v.text, "'"), true
	}
	return "", false
}

// eqPreds are the columns a statement's WHERE pins with = or IN.
func eqPreds(p parsed) map[string]pred {
	out := map[string]pred{}
	for _, w := range p.where {
		if w.op == "=" || w.op == "in" {
			if _, dup := out[w.col]; !dup {
				out[w.col] = w
			}
		}
	}
	return out
}

// sameRows reports whether read r may read the rows write w writes, and
// the key columns they share.
func sameRows(r, w step) (bool, []string) {
	if !r.p.hasWhere {
		return true, nil
	}
	rk := eqPreds(r.p)
	var wk map[string]pred
	if w.p.kind == kInsert {
		wk = map[string]pred{}
		cols := w.p.conflictCols
		if len(cols) == 0 {
			cols = w.p.insertCols
		}
		for _, c := range cols {
			wk[c] = pred{col: c, op: "="}
		}
	} else {
		wk = eqPreds(w.p)
	}
	var shared []string
	for c, rp := range rk {
		wp, ok := wk[c]
		if !ok {
			continue
		}
		if rp.op == "=" && wp.op == "=" {
			rv, rok := value(r.st, rp.val)
			wv, wok := value(w.st, wp.val)
			if rok && wok && rv != wv {
				return false, nil // another row
			}
		}
		shared = append(shared, c)
	}
	sort.Strings(shared)
	return len(shared) > 0, shared
}

func guarded(p parsed, col string) bool {
	for _, w := range p.where {
		if w.col == col {
			return true
		}
	}
	return false
}

func (a *analysis) readThenWrite() {
	for j, w := range a.steps {
		if !a.ok(w) || !(w.p.kind == kUpdate || w.p.kind == kInsert && w.p.upsert) {
			continue
		}
		for _, r := range a.steps[:j] {
			if !a.ok(r) || r.p.kind != kSelect || r.p.table != w.p.table {
				continue
			}
			same, key := sameRows(r, w)
			if !same {
				continue
			}
			var cols []string
			debit := false
			for _, set := range w.p.sets {
				if !(r.p.star || slices.Contains(r.p.reads, set.col)) || slices.Contains(key, set.col) {
					continue
				}
				if guarded(w.p, set.col) {
					continue // conditional: WHERE … AND col >= ? / col = expected
				}
				if set.self && !set.sub {
					continue // atomic: col = col + ?
				}
				if set.sub || debitName.MatchString(set.col) {
					debit = true
				}
				cols = append(cols, set.col)
			}
			if len(cols) == 0 {
				continue
			}
			locked := r.p.forUpdate && sameTxn(r, w)
			if locked || a.serial(r, w) {
				continue
			}
			sort.Strings(cols)
			class := LostUpdate
			target := fmt.Sprintf("%s(%s)", w.p.table, strings.Join(cols, ", "))
			why := target + " is read, then written back with a value computed in the service"
			if debit {
				class = TOCTOUDebit
				why = target + " is checked by a read, then changed by a write that does not re-check it"
			}
			switch {
			case r.p.forUpdate:
				why += "; the read's FOR UPDATE is not in the write's transaction, so its lock is gone before the write"
			case sameTxn(r, w):
				why += ", in one transaction but without FOR UPDATE or SERIALIZABLE isolation"
			default:
				why += ", in separate statements with no lock (no FOR UPDATE, no conditional WHERE, no SERIALIZABLE transaction)"
			}
			a.add(class, w.p.table, cols, why+".", r, w)
			a.flaggedWrite[w.pos] = true
			break
		}
	}
}

func (a *analysis) rewrites() {
	for j, d := range a.steps {
		if !a.ok(d) || d.p.kind != kDelete {
			continue
		}
		for _, r := range a.steps[:j] {
			if !a.ok(r) || r.p.kind != kSelect || r.p.table != d.p.table {
				continue
			}
			same, key := sameRows(r, d)
			if !same || len(key) == 0 || r.p.forUpdate && sameTxn(r, d) || a.serial(r, d) || a.lockedBefore(r) {
				continue
			}
			var ins *step
			for k := j + 1; k < len(a.steps); k++ {
				i := a.steps[k]
				if a.ok(i) && i.p.kind == kInsert && i.p.table == d.p.table && containsAll(i.p.insertCols, key) {
					ins = &a.steps[k]
					break
				}
			}
			if ins == nil {
				continue
			}
			cols := intersect(r.p.reads, ins.p.insertCols)
			if len(cols) == 0 {
				cols = key
			}
			for k := j + 1; k < len(a.steps); k++ {
				if i := a.steps[k]; i.p.kind == kInsert && i.p.table == d.p.table {
					a.consumedInsert[i.pos] = true
				}
			}
			why := fmt.Sprintf("the %s rows of one %s are read, then deleted and inserted again from that read: a change made in between is lost (no lock taken before the read).", d.p.table, strings.Join(key, ", "))
			a.add(LostUpdate, d.p.table, cols, why, r, d, *ins)
			a.found[len(a.found)-1].Fix = rewriteFix
			break
		}
	}
}

// lockedBefore reports whether a LOCK TABLE ran in r's transaction before r.
func (a *analysis) lockedBefore(r step) bool {
	for _, s := range a.steps {
		if s.pos >= r.pos {
			return false
		}
		if s.p.kind == kLock && sameTxn(s, r) {
			return true
		}
	}
	return false
}

func (a *analysis) selectInsert() {
	for j, w := range a.steps {
		if !a.ok(w) || w.p.kind != kInsert || w.p.onConflict || a.consumedInsert[w.pos] {
			continue
		}
		for _, r := range a.steps[:j] {
			if !a.ok(r) || r.p.kind != kSelect || r.p.table != w.p.table {
				continue
			}
			var key []string
			for c := range eqPreds(r.p) {
				key = append(key, c)
			}
			sort.Strings(key)
			if len(key) == 0 || !containsAll(w.p.insertCols, key) || a.serial(r, w) {
				continue
			}
			if a.uniqueWithin(w.p.table, key) {
				continue
			}
			class := DoubleSubmit
			evidence := []step{r, w}
			if idemName.MatchString(w.p.table) || slices.ContainsFunc(key, idemName.MatchString) {
				for _, o := range a.steps[r.pos:] {
					if a.ok(o) && o.p.table != w.p.table && (o.p.kind == kInsert || o.p.kind == kUpdate || o.p.kind == kDelete) {
						class = IdempotencyKey
						evidence = append(evidence, o)
						sort.Slice(evidence, func(x, y int) bool { return evidence[x].pos < evidence[y].pos })
						break
					}
				}
			}
			target := fmt.Sprintf("%s(%s)", w.p.table, strings.Join(key, ", "))
			why := fmt.Sprintf("no unique index on %s: requests that both find no row both insert one", target)
			if class == IdempotencyKey {
				why = fmt.Sprintf("the key is looked up in %s and, when absent, recorded along with other writes, with no unique index on %s: concurrent deliveries all pass the check and all do the work", w.p.table, target)
			}
			a.add(class, w.p.table, key, why+".", evidence...)
			break
		}
	}
}

// uniqueWithin reports whether a unique column set of table lies within cols.
func (a *analysis) uniqueWithin(table string, cols []string) bool {
	for _, set := range a.schema.Unique[table] {
		if containsAll(cols, set) {
			return true
		}
	}
	return false
}

func (a *analysis) newestWins() {
	for _, w := range a.steps {
		if !a.ok(w) || a.flaggedWrite[w.pos] || !(w.p.kind == kUpdate || w.p.kind == kInsert && w.p.upsert) {
			continue
		}
		var cols []string
		for _, set := range w.p.sets {
			if statusName.MatchString(set.col) && !set.self {
				cols = append(cols, set.col)
			}
		}
		if len(cols) == 0 {
			continue
		}
		compared := false
		for _, p := range w.p.where {
			if statusName.MatchString(p.col) {
				compared = true
			}
		}
		if compared {
			continue
		}
		sort.Strings(cols)
		why := fmt.Sprintf("%s(%s) is overwritten without comparing the stored value or version in the WHERE: an older write arriving last wins", w.p.table, strings.Join(cols, ", "))
		a.add(NewestWins, w.p.table, cols, why+".", w)
	}
}

func (a *analysis) add(c Class, table string, cols []string, why string, ev ...step) {
	endpoint := a.trace.Request.Endpoint
	if endpoint == "" {
		endpoint = strings.TrimSpace(a.trace.Request.Method + " " + a.trace.Request.URL)
	}
	evidence := make([]string, 0, len(ev))
	for _, s := range ev {
		line := fmt.Sprintf("%d. %s", s.pos, redactSQL(s.st.Text, len(s.st.Params) == 0))
		if s.st.InTxn {
			line += "  (in a transaction)"
		}
		evidence = append(evidence, line)
	}
	a.found = append(a.found, Finding{
		ID:        findingID(endpoint, c, table),
		Endpoint:  endpoint,
		RequestID: a.trace.Request.ID,
		Class:     c,
		Table:     table,
		Columns:   slices.Clone(cols),
		Evidence:  evidence,
		Why:       why,
		Checker:   classChecker[c],
		Fix:       classFix[c],
	})
}

// findingID is "F-" and the first 6 hex digits of SHA-256 of
// "endpoint|class|table".
func findingID(endpoint string, c Class, table string) string {
	sum := sha256.Sum256([]byte(endpoint + "|" + string(c) + "|" + table))
	return "F-" + hex.EncodeToString(sum[:3])
}

// merge sorts findings by (Endpoint, Class, Table) and keeps one per
// triple: the first, with the columns of all.
func merge(fs []Finding) []Finding {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint < b.Endpoint
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Table < b.Table
	})
	var out []Finding
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].Endpoint == f.Endpoint && out[n-1].Class == f.Class && out[n-1].Table == f.Table {
			for _, c := range f.Columns {
				if !slices.Contains(out[n-1].Columns, c) {
					out[n-1].Columns = append(out[n-1].Columns, c)
				}
			}
			sort.Strings(out[n-1].Columns)
			continue
		}
		out = append(out, f)
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
