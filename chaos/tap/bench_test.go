package tap_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/collide-dev/collide/chaos/tap"
)

// path is one way to reach the database in a benchmark: directly, through
// the plain relay (discovery off) or through the recording tap.
type path struct {
	name string
	cfg  func(upstream string, p tap.Protocol) *tap.Config
}

var paths = []path{
	{name: "direct"},
	{name: "plain-relay", cfg: func(up string, _ tap.Protocol) *tap.Config { return &tap.Config{Upstream: up} }},
	{name: "tap-recording", cfg: func(up string, p tap.Protocol) *tap.Config {
		return &tap.Config{Upstream: up, Protocol: p, Recorder: tap.NewRecorder(10_000)}
	}},
}

// latencies reports p50 and p99 of lat in µs, and their ratio to the direct
// path's (measured first in the same run) as p50-x-direct and p99-x-direct.
type latencies struct{ p50, p99 float64 }

func report(b *testing.B, name string, lat []time.Duration, direct *latencies) {
	slices.Sort(lat)
	us := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e3 }
	l := latencies{us(0.50), us(0.99)}
	b.ReportMetric(l.p50, "p50-µs")
	b.ReportMetric(l.p99, "p99-µs")
	b.ReportMetric(0, "ns/op")
	if name == "direct" {
		*direct = l
		return
	}
	if direct.p50 > 0 {
		b.ReportMetric(l.p50/direct.p50, "p50-x-direct")
		b.ReportMetric(l.p99/direct.p99, "p99-x-direct")
		b.ReportMetric(l.p50-direct.p50, "p50-added-µs")
	}
}

// BenchmarkPostgresStatementLatency: one prepared SELECT per round trip.
func BenchmarkPostgresStatementLatency(b *testing.B) {
	dsn, up := pgDB(b)
	var direct latencies
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			addr := up
			if p.cfg != nil {
				addr = startTap(b, *p.cfg(up, tap.Postgres)).Addr()
			}
			c := pgConnect(b, viaTap(b, dsn, addr, "disable"))
			ctx := context.Background()
			mustExec(b, c, "SELECT $1::int", 0)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if _, err := c.Exec(ctx, "SELECT $1::int", i); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			report(b, p.name, lat, &direct)
		})
	}
}

// BenchmarkMySQLStatementLatency: one prepared SELECT per round trip
// (COM_STMT_EXECUTE on a statement prepared once).
func BenchmarkMySQLStatementLatency(b *testing.B) {
	cfg := mysqlDB(b)
	var direct latencies
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			addr := cfg.Addr
			if p.cfg != nil {
				addr = startTap(b, *p.cfg(cfg.Addr, tap.MySQL)).Addr()
			}
			db := mysqlVia(b, cfg, addr)
			ctx := context.Background()
			st, err := db.PrepareContext(ctx, "SELECT ? + 1")
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			var v int
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if err := st.QueryRowContext(ctx, i).Scan(&v); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			report(b, p.name, lat, &direct)
		})
	}
}

// BenchmarkPostgresStatementsPerSecond: batches of 100 prepared statements
// per round trip, so the tap decodes statements as fast as the server runs
// them; stmts/s is statements completed per second, x-plain the ratio to the
// plain relay's rate measured first in the same run.
func BenchmarkPostgresStatementsPerSecond(b *testing.B) {
	dsn, up := pgDB(b)
	const perBatch = 100
	var plainRate float64
	for _, p := range paths[1:] {
		b.Run(p.name, func(b *testing.B) {
			rec := tap.NewRecorder(10_000)
			cfg := p.cfg(up, tap.Postgres)
			if cfg.Recorder != nil {
				cfg.Recorder = rec
			}
			c := pgConnect(b, viaTap(b, dsn, startTap(b, *cfg).Addr(), "disable"))
			ctx := context.Background()
			mustExec(b, c, "SELECT $1::int", 0)
			b.ResetTimer()
			t0 := time.Now()
			for range b.N {
				var batch pgx.Batch
				for j := range perBatch {
					batch.Queue("SELECT $1::int", j)
				}
				if err := c.SendBatch(ctx, &batch).Close(); err != nil {
					b.Fatal(err)
				}
			}
			rate := float64(b.N*perBatch) / time.Since(t0).Seconds()
			b.StopTimer()
			b.ReportMetric(rate, "stmts/s")
			if p.name == "plain-relay" {
				plainRate = rate
				return
			}
			b.ReportMetric(rate/plainRate, "x-plain")
			if got := len(rec.Statements()) + int(rec.Dropped()); got < b.N*perBatch {
				b.Fatalf("recorded %d statements, want ≥ %d", got, b.N*perBatch)
			}
		})
	}
}
