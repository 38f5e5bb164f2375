package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/postgres" // the database the benchmarks use
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// BenchmarkCheckers1M runs the unique, counter and expect checkers over a
// million rows in a private PostgreSQL database (internal/testpg), with a
// one-million-op history behind the counts. COLLIDE_BENCH_ROWS changes the
// size. Every check must pass: the data is consistent.
func BenchmarkCheckers1M(b *testing.B) {
	rows := envInt("COLLIDE_BENCH_ROWS", 1_000_000)
	ctx := context.Background()
	dsn := testpg.New(b)
	db, err := database.Open(ctx, "postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	setupStart := time.Now()
	for _, q := range []string{
		"CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, idempotency_key text NOT NULL)",
		"CREATE TABLE events (id bigint PRIMARY KEY, amount int NOT NULL)",
	} {
		if err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}

	// The history: one ok "insert" op per event row, each carrying its
	// amount, written as an attack writes it.
	hpath, tally := writeInsertHistory(b, rows)
	env := &invariants.Env{DB: db, HistoryPath: hpath, Tally: tally, Operations: []string{"insert"}}

	checks := []struct {
		name     string
		inv      profiles.Invariant
		maxRatio float64 // target: at most this many times the peer scan (0: checkerTargetRatio)
	}{
		{"unique/one_text_column", profiles.Invariant{Name: "no order twice", Fields: fields("unique", "SELECT idempotency_key FROM orders")}, 0},
		{"unique/two_columns", profiles.Invariant{Name: "no order twice per customer", Fields: fields("unique", "SELECT customer, idempotency_key FROM orders")}, 0},
		{"counter/step", profiles.Invariant{Name: "every insert counted", Check: "counter", Op: "insert",
			Query: "SELECT count(*) AS n FROM events"}, 0},
		{"counter/value_from_history", profiles.Invariant{Name: "every amount counted", Check: "counter", Op: "insert", Fields: fields("value_from", "amount"),
			Query: "SELECT COALESCE(sum(amount), 0) AS total FROM events"}, 0},
		{"expect/count_star", profiles.Invariant{Name: "rows == ok inserts", Query: "SELECT count(*) AS n FROM events",
			Fields: fields("expect", `n - before.n == ok("insert")`)}, 0},
		{"expect/all_rows", profiles.Invariant{Name: "rows == ok inserts, rows fetched", Query: "SELECT id FROM events",
			Fields: fields("expect", `count == ok("insert")`)}, 0},
		// Holds every row by design (the expression reads rows): a looser bound.
		{"expect/all_rows_read", profiles.Invariant{Name: "rows == ok inserts, rows read by the expression", Query: "SELECT id FROM events",
			Fields: fields("expect", `len(rows) == ok("insert")`)}, 20},
	}
	checkers := make([]invariants.Checker, len(checks))
	for i, c := range checks {
		if checkers[i], err = invariants.New(c.inv); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		// Before the rows exist: counter and expect read their "before".
		if p, ok := checkers[i].(invariants.Preparer); ok {
			if err := p.Prepare(ctx, env); err != nil {
				b.Fatalf("%s: prepare: %v", c.name, err)
			}
		}
	}
	for _, q := range []string{
		fmt.Sprintf("INSERT INTO orders SELECT g, g %% 1000, 'order-' || g FROM generate_series(1, %d) g", rows),
		fmt.Sprintf("INSERT INTO events SELECT g, 1 FROM generate_series(1, %d) g", rows),
		"VACUUM ANALYZE orders",
		"VACUUM ANALYZE events",
	} {
		if err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: %d rows per table and a %d-op history in %s", rows, rows, time.Since(setupStart).Round(time.Millisecond))

	// The duplicate search done by the database (GROUP BY every column of
	// the unique query), measured on the same data as an alternative to
	// unique's client-side map (docs/benchmarks.md says why unique keeps
	// the map).
	alternatives := []struct {
		name, query string
		want        int
	}{
		{"alternative/unique_group_by_in_sql/one_text_column", "SELECT idempotency_key, count(*) FROM (SELECT idempotency_key FROM orders) q GROUP BY 1 HAVING count(*) > 1", 0},
		{"alternative/unique_group_by_in_sql/two_columns", "SELECT customer, idempotency_key, count(*) FROM (SELECT customer, idempotency_key FROM orders) q GROUP BY 1, 2 HAVING count(*) > 1", 0},
	}
	for _, p := range alternatives {
		b.Run(p.name, func(b *testing.B) {
			runtime.GC()
			stop := heapPeak()
			n := 0
			for b.Loop() {
				n = 0
				if _, err := db.Each(ctx, p.query, func([]any) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(stop(), "peak-heap-MB")
			if n != p.want {
				b.Fatalf("%d rows, want %d", n, p.want)
			}
		})
	}

	// The peer every checker is measured against, in the same run: the
	// database streaming the million rows of orders to a callback that
	// does nothing — what any check of a million rows pays at least.
	scanOnce := func(b *testing.B) time.Duration {
		start, n := time.Now(), 0
		if _, err := db.Each(ctx, "SELECT idempotency_key FROM orders", func([]any) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != rows {
			b.Fatalf("peer scan: %d rows, want %d", n, rows)
		}
		return time.Since(start)
	}

	for i, c := range checks {
		b.Run(c.name, func(b *testing.B) {
			var res invariants.Result
			runtime.GC()
			stop := heapPeak()
			for b.Loop() {
				res = checkers[i].Check(ctx, env)
			}
			b.ReportMetric(stop(), "peak-heap-MB")
			if res.Verdict != invariants.Pass {
				b.Fatalf("verdict %s: %s %s", res.Verdict, res.Actual, res.Error)
			}
			b.ReportMetric(float64(rows)/(float64(b.Elapsed().Seconds())/float64(b.N)), "rows/s")

			// The target: three rounds of (peer scan, check) back to back,
			// so that each pair sees the same load; medians of each side.
			var scans, runs []float64
			for range 3 {
				scans = append(scans, float64(scanOnce(b)))
				start := time.Now()
				checkers[i].Check(ctx, env)
				runs = append(runs, float64(time.Since(start)))
			}
			scan, took := time.Duration(Median(scans)), time.Duration(Median(runs))
			limit := c.maxRatio
			if limit == 0 {
				limit = checkerTargetRatio
			}
			r := float64(took) / float64(scan)
			b.ReportMetric(r, "x-peer-scan")
			b.Logf("target %s: %.2f× the peer scan (medians %v / %v), want ≤ %.0f×", c.name, r, took.Round(time.Millisecond), scan.Round(time.Millisecond), limit)
			if r > limit {
				missed(b, "%s took %.2f× the database's scan of a million rows (medians of 3: %v / %v), want ≤ %.0f×",
					c.name, r, took.Round(time.Millisecond), scan.Round(time.Millisecond), limit)
			}
		})
	}
}

// checkerTargetRatio is the "< 2 s over a million rows" target of
// docs/benchmarks.md as a ratio against a peer in the same run, so that the
// machine's load moves both sides: no checker may take more than this many
// times the database's own streaming of a million rows to a no-op callback
// (measured at load 10 on 2 cores: 0.5–5.0×; counter with value_from took
// 4.47 s before 2026-11-29, about 20× the scan).
const checkerTargetRatio = 8.0

// BenchmarkLinearizable10k checks a linearizable 10,000-op register
// history (reads and writes by 8 concurrent clients per key, 2% of writes
// with an unknown outcome) partitioned by key, with the linearizable
// checker (porcupine), history file reading included.
func BenchmarkLinearizable10k(b *testing.B) {
	const ops = 10_000
	for _, keys := range []int{100, 10, 1} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			if keys == 1 && testing.Short() {
				b.Skip("one key of 10,000 ops is a long search")
			}
			path := filepath.Join(b.TempDir(), "history.jsonl")
			tally, err := writeRegisterHistory(path, ops, keys, 8, rand.New(rand.NewPCG(uint64(keys), 7)))
			if err != nil {
				b.Fatal(err)
			}
			c, err := invariants.New(profiles.Invariant{Name: "register", Check: "linearizable", Fields: profiles.NewCheckerFields(map[string]any{
				"read_op": "read", "write_op": "write", "timeout": profiles.Duration(60 * time.Second)})})
			if err != nil {
				b.Fatal(err)
			}
			env := &invariants.Env{HistoryPath: path, Tally: tally, Operations: []string{"read", "write"}}
			var res invariants.Result
			runtime.GC()
			stop := heapPeak()
			for b.Loop() {
				res = c.Check(context.Background(), env)
			}
			b.ReportMetric(stop(), "peak-heap-MB")
			if res.Verdict != invariants.Pass {
				b.Fatalf("verdict %s: %s %s %v", res.Verdict, res.Actual, res.Error, res.Evidence)
			}
		})
	}
}

// writeRegisterHistory writes a linearizable history of n ops over keys
// registers: per key, clients issue ops back to back; each op takes effect
// at a random instant between its invoke and its completion, writes write
// their seq, reads return the value at their instant (null before the first
// write). 2% of writes are unknown (applied or not), 1% of ops fail.
func writeRegisterHistory(path string, n, keys, clients int, rng *rand.Rand) (*history.Tally, error) {
	type ev struct {
		op *history.Op
		at int64 // when it takes effect; -1 never
	}
	w, err := history.Create(path)
	if err != nil {
		return nil, err
	}
	base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).UnixNano()
	id := uint64(0)
	perKey := n / keys
	var all []*history.Op
	for k := range keys {
		key := "key-" + strconv.Itoa(k)
		next := make([]int64, clients) // when each client is free
		var evs []ev
		for i := range perKey {
			c := i % clients
			invoke := next[c] + rng.Int64N(200_000)
			dur := 50_000 + rng.Int64N(2_000_000)
			complete := invoke + dur
			next[c] = complete
			id++
			op := &history.Op{ID: id, Key: key, Worker: c, Invoke: time.Unix(0, base+invoke).UTC(), Complete: time.Unix(0, base+complete).UTC(),
				Outcome: history.OK, Status: 200, Sent: true, Values: map[string]string{"seq": strconv.FormatUint(id, 10)}}
			at := invoke + rng.Int64N(dur+1)
			switch r := rng.Float64(); {
			case r < 0.5:
				op.Op = "write"
				if rng.Float64() < 0.02 {
					op.Outcome, op.Status = history.Unknown, 0
					op.Error = "context deadline exceeded"
					if rng.Float64() < 0.5 {
						at = -1 // never applied
					}
				}
			default:
				op.Op = "read"
			}
			if rng.Float64() < 0.01 {
				op.Outcome, op.Status, at = history.Fail, 409, -1
			}
			evs = append(evs, ev{op, at})
		}
		order := slices.Clone(evs)
		slices.SortFunc(order, func(a, b ev) int { return int(a.at - b.at) })
		var value any // nil: not written yet
		for _, e := range order {
			if e.at < 0 {
				continue
			}
			if e.op.Op == "write" {
				value = int64(e.op.ID)
			} else if e.op.Outcome == history.OK {
				e.op.Captures = map[string]any{"value": value}
			}
		}
		for _, e := range evs {
			all = append(all, e.op)
		}
	}
	slices.SortFunc(all, func(a, b *history.Op) int { return a.Complete.Compare(b.Complete) })
	for _, op := range all {
		if err := w.Append(op); err != nil {
			return nil, err
		}
	}
	return w.Tally(), w.Close()
}

// writeInsertHistory writes a history of n ok "insert" ops, each with its
// seq and an amount of 1, as an attack writes it, and returns its path and
// tally.
func writeInsertHistory(b *testing.B, n int) (string, *history.Tally) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := range n {
		op := &history.Op{ID: uint64(i + 1), Op: "insert", Worker: i % 32, Invoke: t0, Complete: t0.Add(time.Millisecond),
			Outcome: history.OK, Status: 201, Sent: true, Values: map[string]string{"seq": strconv.Itoa(i), "amount": "1"}}
		if err := w.Append(op); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path, w.Tally()
}

// fields are an invariant's checker fields of one name and value.
func fields(name string, v any) profiles.CheckerFields {
	return profiles.NewCheckerFields(map[string]any{name: v})
}
