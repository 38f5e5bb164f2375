package bench

// Before/after measurements of changes to non-test code (docs/benchmarks.md,
// "Changes made"): a pass over a one-million-op history the way checkers
// used to read it (every op into a slice) against a streaming pass.

import (
	"fmt"
	"math/big"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/report"
)

// BenchmarkHistoryPass1M is the history half of a counter check with
// value_from over a one-million-op history: "readOps" is the old way (every
// matching op decoded with encoding/json into a slice, then each amount
// added as a big.Rat); "streaming" decodes each line with decodeOp into one
// reused Op and adds integral amounts in an int64 (big.Rat only for the
// rest), keeping nothing per op.
func BenchmarkHistoryPass1M(b *testing.B) {
	n := envInt("COLLIDE_BENCH_ROWS", 1_000_000)
	path, _ := writeInsertHistory(b, n)
	want := big.NewRat(int64(n), 1)
	b.Run("readOps", func(b *testing.B) {
		runtime.GC()
		stop := heapPeak()
		defer func() { b.ReportMetric(stop(), "peak-heap-MB") }()
		for b.Loop() {
			var ops []*history.Op
			if err := history.Each(path, func(op *history.Op) error {
				if op.Op == "insert" {
					ops = append(ops, op)
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			sum := new(big.Rat)
			for _, op := range ops {
				a, ok := new(big.Rat).SetString(op.Values["amount"])
				if !ok {
					b.Fatal("amount")
				}
				sum.Add(sum, a)
			}
			if sum.Cmp(want) != 0 {
				b.Fatalf("sum %s", sum)
			}
		}
	})
	for _, skip := range []bool{false, true} {
		name := "streaming"
		if skip {
			name = "streaming_skip_times"
		}
		b.Run(name, func(b *testing.B) {
			runtime.GC()
			stop := heapPeak()
			defer func() { b.ReportMetric(stop(), "peak-heap-MB") }()
			for b.Loop() {
				if sum := streamSum(b, path, "insert", "amount", skip); sum.Cmp(want) != 0 {
					b.Fatalf("sum %s", sum)
				}
			}
		})
	}
}

// streamSum adds the value name of every op named op in the history at
// path, line by line, keeping nothing per op.
func streamSum(b *testing.B, path, opName, name string, skipTimes bool) *big.Rat {
	var isum int64
	rsum := new(big.Rat)
	err := history.Stream(path, skipTimes, func(op *history.Op) error {
		if op.Op != opName {
			return nil
		}
		v := op.Values[name]
		// Integral amounts add up in an int64 while they safely fit.
		if i, err := strconv.ParseInt(v, 10, 64); err == nil && i < 1<<40 && i > -(1<<40) && isum < 1<<62 && isum > -(1<<62) {
			isum += i
			return nil
		}
		a, ok := new(big.Rat).SetString(v)
		if !ok {
			return fmt.Errorf("amount %q", v)
		}
		rsum.Add(rsum, a)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return rsum.Add(rsum, big.NewRat(isum, 1))
}

// BenchmarkWriteVegetaResults is the pass harness.Run makes after the attack
// to write results.bin (vegeta's format) from history.jsonl: its cost per op
// is in every run's CPU, after the load (so not in its throughput).
func BenchmarkWriteVegetaResults(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := range n {
		if err := w.Append(&history.Op{ID: uint64(i + 1), Op: "get", Worker: i, Invoke: t0, Complete: t0.Add(time.Millisecond),
			Outcome: history.OK, Status: 200, Sent: true, Values: map[string]string{"seq": strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, report.VegetaFile)
	for b.Loop() {
		if err := report.WriteVegetaResults(path, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/history-op")
}
