// Package bench measures collide against its peers and at scale: load
// (collide vs the vegeta CLI vs wrk on one loopback demo server), memory (a
// run of one million requests), checkers over a million PostgreSQL rows and
// a 10,000-op linearizability check. docs/benchmarks.md reports the figures
// and the commands that produced them.
//
// The package's tests are long and only run with COLLIDE_BENCH=1 (and its
// Go benchmarks only with -bench), so a plain `go test ./...` stays fast:
//
//	make bench           # everything, results under bench/out/
//	make bench-load      # collide vs vegeta vs wrk
//	make bench-memory    # peak RSS of a one-million-request run
//	make bench-checkers  # unique, counter, expect over 1M rows; linearizable over 10k ops
//	make bench-hot       # hot-path Go benchmarks, in benchstat format
//
// Environment (all optional): COLLIDE_BENCH_OUT (results folder, default
// bench/out), COLLIDE_BENCH_COLLIDE and COLLIDE_BENCH_VEGETA (prebuilt
// binaries; built when unset), COLLIDE_BENCH_DURATION (one load run, default
// 6s), COLLIDE_BENCH_REPEAT (load repeats, default 5), COLLIDE_BENCH_WORKERS
// (connections at saturation, default 32), COLLIDE_BENCH_RATE (the fixed
// rate, default 2000), COLLIDE_BENCH_PATH (the endpoint, default /healthz),
// COLLIDE_BENCH_REQUESTS (the memory run, default 1000000),
// COLLIDE_BENCH_MODES (saturation,fixed), COLLIDE_BENCH_PPROF=0 (no CPU
// profile), COLLIDE_BENCH_STRICT=1 (fail on a missed target;
// bench/run.sh, and so make bench, sets it unless it is set), and
// COLLIDE_BENCH_COLLIDE_B with COLLIDE_BENCH_COLLIDE_B_ENV (a second collide
// binary, e.g. with a proposed change, compared as "collide-b").
//
// Every request goes to a demo server on 127.0.0.1; every load loop is
// bounded by a request count and a duration.
package bench
