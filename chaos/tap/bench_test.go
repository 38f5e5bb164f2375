package tap_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collide-dev/collide/chaos/tap"
)

// The three ways a benchmark reaches the database, measured interleaved in
// one loop (each iteration runs one statement on each, in rotating order)
// so that noise from a shared machine falls on all three alike.
const (
	direct = iota // straight to the server
	relay         // through the plain relay (discovery off)
	rec           // through the recording tap
)

var pathNames = [...]string{"direct", "relay", "tap"}

// addrs starts a plain relay and a recording tap in front of upstream and
// returns the three addresses, indexed by direct, relay, rec.
func addrs(b *testing.B, upstream string, p tap.Protocol) [3]string {
	r := startTap(b, tap.Config{Upstream: upstream})
	tp := startTap(b, tap.Config{Upstream: upstream, Protocol: p, Recorder: tap.NewRecorder(10_000)})
	return [3]string{upstream, r.Addr(), tp.Addr()}
}

// runInterleaved calls op(path, i) for every path b.N times and reports,
// per path, p50 and p99 latency in µs, and the tap's and the relay's p50
// and p99 as ratios to the direct path's and as µs added.
func runInterleaved(b *testing.B, op func(path, i int) error) {
	var lat [3][]time.Duration
	for p := range lat {
		lat[p] = make([]time.Duration, 0, b.N)
	}
	b.ResetTimer()
	for i := range b.N {
		for k := range 3 {
			p := (i + k) % 3
			t0 := time.Now()
			if err := op(p, i); err != nil {
				b.Fatalf("%s: %v", pathNames[p], err)
			}
			lat[p] = append(lat[p], time.Since(t0))
		}
	}
	b.StopTimer()
	var p50, p99 [3]float64
	for p := range lat {
		slices.Sort(lat[p])
		q := func(f float64) float64 { return float64(lat[p][int(f*float64(len(lat[p])-1))]) / 1e3 }
		p50[p], p99[p] = q(0.50), q(0.99)
		b.ReportMetric(p50[p], pathNames[p]+"-p50-µs")
		b.ReportMetric(p99[p], pathNames[p]+"-p99-µs")
	}
	for _, p := range []int{relay, rec} {
		b.ReportMetric(p50[p]/p50[direct], pathNames[p]+"-p50-x-direct")
		b.ReportMetric(p99[p]/p99[direct], pathNames[p]+"-p99-x-direct")
		b.ReportMetric(p50[p]-p50[direct], pathNames[p]+"-p50-added-µs")
	}
	b.ReportMetric(p50[rec]/p50[relay], "tap-p50-x-relay")
	b.ReportMetric(0, "ns/op") // per-iteration time mixes the three paths: meaningless
}

// BenchmarkPostgresStatementLatency: one prepared SELECT per round trip.
func BenchmarkPostgresStatementLatency(b *testing.B) {
	dsn, up := pgDB(b)
	a := addrs(b, up, tap.Postgres)
	var conns [3]*pgx.Conn
	ctx := context.Background()
	for p := range conns {
		conns[p] = pgConnect(b, viaTap(b, dsn, a[p], "disable"))
		mustExec(b, conns[p], "SELECT $1::int", 0)
	}
	runInterleaved(b, func(p, i int) error {
		_, err := conns[p].Exec(ctx, "SELECT $1::int", i)
		return err
	})
}

// BenchmarkMySQLStatementLatency: one prepared SELECT per round trip
// (COM_STMT_EXECUTE of a statement prepared once).
func BenchmarkMySQLStatementLatency(b *testing.B) {
	cfg := mysqlDB(b)
	a := addrs(b, cfg.Addr, tap.MySQL)
	ctx := context.Background()
	var run [3]func(i int) error
	for p := range run {
		st, err := mysqlVia(b, cfg, a[p]).PrepareContext(ctx, "SELECT ? + 1")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		run[p] = func(i int) error {
			var v int
			return st.QueryRowContext(ctx, i).Scan(&v)
		}
	}
	runInterleaved(b, func(p, i int) error { return run[p](i) })
}

// BenchmarkPostgresStatementsPerSecond: batches of 100 prepared statements
// per round trip, alternating between the plain relay and the recording tap,
// so the tap decodes statements as fast as the server answers them.
// tap-stmts/s is statements completed per second through the tap,
// x-relay its ratio to the plain relay's rate in the same loop.
func BenchmarkPostgresStatementsPerSecond(b *testing.B) {
	dsn, up := pgDB(b)
	const perBatch = 100
	r := startTap(b, tap.Config{Upstream: up})
	recorder := tap.NewRecorder(1000)
	tp := startTap(b, tap.Config{Upstream: up, Protocol: tap.Postgres, Recorder: recorder})
	ctx := context.Background()
	conns := [2]*pgx.Conn{pgConnect(b, viaTap(b, dsn, r.Addr(), "disable")), pgConnect(b, viaTap(b, dsn, tp.Addr(), "disable"))}
	for _, c := range conns {
		mustExec(b, c, "SELECT $1::int", 0)
	}
	before := len(recorder.Statements()) + int(recorder.Dropped())
	var spent [2]time.Duration
	b.ResetTimer()
	for i := range b.N {
		for k := range 2 {
			p := (i + k) % 2
			var batch pgx.Batch
			for j := range perBatch {
				batch.Queue("SELECT $1::int", j)
			}
			t0 := time.Now()
			if err := conns[p].SendBatch(ctx, &batch).Close(); err != nil {
				b.Fatal(err)
			}
			spent[p] += time.Since(t0)
		}
	}
	b.StopTimer()
	rate := func(p int) float64 { return float64(b.N*perBatch) / spent[p].Seconds() }
	b.ReportMetric(rate(0), "relay-stmts/s")
	b.ReportMetric(rate(1), "tap-stmts/s")
	b.ReportMetric(rate(1)/rate(0), "x-relay")
	b.ReportMetric(0, "ns/op")
	if got := len(recorder.Statements()) + int(recorder.Dropped()) - before; got != b.N*perBatch {
		b.Fatal(fmt.Sprintf("the tap recorded %d statements, want %d", got, b.N*perBatch))
	}
}
