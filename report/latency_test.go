package report

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
)

// lognormal draws n latencies around median (ns) with spread sigma, seeded.
func lognormal(seed uint64, n int, median, sigma float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = median * math.Exp(sigma*r.NormFloat64())
	}
	return out
}

func scale(v []float64, f float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * f
	}
	return out
}

func TestCompareLatencies(t *testing.T) {
	base := lognormal(1, 300, 6e6, 0.3)
	for _, tc := range []struct {
		name        string
		x, y        []float64
		significant bool
		lo, hi      float64 // the true shift lies in [Lo, Hi], which lies in [lo, hi]
	}{
		{"same distribution, other draw", base, lognormal(2, 300, 6e6, 0.3), false, -0.1, 0.1},
		{"30% slower", base, lognormal(3, 300, 7.8e6, 0.3), true, 0.2, 0.4},
		{"exactly 30% slower", base, scale(base, 1.3), true, 0.2, 0.4},
		{"20% faster", base, lognormal(4, 300, 4.8e6, 0.3), true, -0.3, -0.1},
		{"unequal sizes", base, lognormal(5, 40, 9e6, 0.3), true, 0.3, 0.8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := CompareLatencies(tc.x, tc.y, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			if s.Significant() != tc.significant {
				t.Fatalf("significant = %v (p=%v), want %v", s.Significant(), s.P, tc.significant)
			}
			if !(s.Lo <= s.Delta && s.Delta <= s.Hi) || s.Lo < tc.lo || s.Hi > tc.hi {
				t.Fatalf("shift %v [%v, %v], want within [%v, %v]", s.Delta, s.Lo, s.Hi, tc.lo, tc.hi)
			}
			if str := s.String(); tc.significant == strings.HasPrefix(str, "~") {
				t.Fatalf("String() = %q", str)
			}
		})
	}
	if _, err := CompareLatencies([]float64{1}, []float64{1, 2}, 0.05); err == nil {
		t.Fatal("one latency compared")
	}
}

// TestLoadLatencies: only ops with a response count; a run with more than
// the cap is sampled to exactly the cap, the same way every time.
func TestLoadLatencies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for i := range 500 {
		op := history.Op{ID: uint64(i + 1), Op: "incr", Invoke: t0, Complete: t0.Add(time.Duration(i+1) * time.Millisecond), Outcome: history.OK, Status: 200}
		if i%10 == 0 {
			op.Outcome, op.Status = history.Unknown, 0
		}
		if err := w.Append(&op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		max     int
		n       int
		sampled bool
	}{{"all", 0, 450, false}, {"under the cap", 1000, 450, false}, {"sampled", 100, 100, true}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := LoadLatencies(path, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			got := l["incr"]
			if got == nil || len(got.Nanos) != tc.n || got.Total != 450 || got.Sampled() != tc.sampled {
				t.Fatalf("%+v", got)
			}
			again, _ := LoadLatencies(path, tc.max)
			for i := range got.Nanos {
				if again["incr"].Nanos[i] != got.Nanos[i] {
					t.Fatal("sampling is not repeatable")
				}
			}
		})
	}
}

// TestLatencyGateRecorded compares recorded runs of bench/gate/latency.yaml
// from `make bench-gate` on a loaded 2-core machine (testdata/gate/pairN:
// a and b on the same build, c against the demo slowed by 30%), as
// collide compare does by default: a→b is no regression, a→c is one (with
// Force: c's override changes the profile hash), and without Force a→c
// calls nothing and says the profiles differ. In pair 7, run a was caught
// in a load spike (median 36ms against b's 6ms).
func TestLatencyGateRecorded(t *testing.T) {
	for _, pair := range []string{"pair2", "pair7"} {
		load := func(name string) Column {
			r, err := LoadRun(filepath.Join("..", "testdata", "gate", pair, name))
			if err != nil {
				t.Fatal(err)
			}
			return Column{Label: name, Dir: r.Dir, Result: r.Result}
		}
		a, b, c := load("a"), load("b"), load("c")
		forced := DefaultCompareOptions()
		forced.Force = true
		for _, tc := range []struct {
			name      string
			cols      []Column
			opt       CompareOptions
			regressed bool
			differ    bool
		}{
			{"same build", []Column{a, b}, DefaultCompareOptions(), false, false},
			{"30% slower", []Column{a, c}, forced, true, true},
			{"30% slower, not forced", []Column{a, c}, DefaultCompareOptions(), false, true},
		} {
			t.Run(pair+"/"+tc.name, func(t *testing.T) {
				cmp := Compare(tc.cols, tc.opt)
				if cmp.Regressed() != tc.regressed || cmp.ProfilesDiffer != tc.differ {
					t.Fatalf("regressions %+v, profiles differ %v; want regressed %v, differ %v", cmp.Regressions, cmp.ProfilesDiffer, tc.regressed, tc.differ)
				}
				if tc.regressed && !strings.HasPrefix(cmp.Regressions[0].Why, "latency incr +") {
					t.Fatalf("regression %q", cmp.Regressions[0].Why)
				}
				if tc.differ && !strings.Contains(strings.Join(cmp.Differences, "\n"), "overrides (none) → target.demo.slowdown=0.3") {
					t.Fatalf("differences %q", cmp.Differences)
				}
			})
		}
	}
}

// TestCompareLatencyRows: the latency row on histories drawn from known
// distributions, in both directions, with its options.
func TestCompareLatencyRows(t *testing.T) {
	col := func(t *testing.T, label string, hash string, lat []float64) Column {
		dir := t.TempDir()
		w, err := history.Create(filepath.Join(dir, "history.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
		for i, ns := range lat {
			invoke := t0.Add(time.Duration(i) * 10 * time.Millisecond)
			op := history.Op{ID: uint64(i + 1), Op: "incr", Invoke: invoke, Complete: invoke.Add(time.Duration(ns)), Outcome: history.OK, Status: 200}
			if err := w.Append(&op); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r := res(1, Pass, 10*time.Millisecond, len(lat), 0)
		r.History, r.Profile.Hash = "history.jsonl", hash
		return Column{Label: label, Dir: dir, Result: r}
	}
	base := lognormal(10, 300, 6e6, 0.2)
	opt := func(f func(*CompareOptions)) CompareOptions { o := DefaultCompareOptions(); f(&o); return o }
	for _, tc := range []struct {
		name string
		y    []float64
		hash string
		opt  CompareOptions
		want string // the regression's Why prefix, "" for none
		cell string // the latency cell starts with this
	}{
		{"same service", lognormal(11, 300, 6e6, 0.2), "h", DefaultCompareOptions(), "", "~"},
		{"40% slower", lognormal(12, 300, 8.4e6, 0.2), "h", DefaultCompareOptions(), "latency incr +", "+"},
		{"slower only in the slowest 10%", slowestTimes(base, 30, 10), "h", DefaultCompareOptions(), "", "~"},
		{"faster", lognormal(15, 300, 3e6, 0.2), "h", DefaultCompareOptions(), "", "-"},
		{"under the threshold", scale(base, 1.15), "h", DefaultCompareOptions(), "", "+15%"},
		{"threshold lowered", scale(base, 1.15), "h", opt(func(o *CompareOptions) { o.LatencyThreshold = 0.05 }), "latency incr +15%", "+15%"},
		{"every request: the slowest 10% alone are not a shift", slowestTimes(base, 30, 10), "h", opt(func(o *CompareOptions) { o.LatencyFastest = 1 }), "", "~"},
		{"floor above the rise", lognormal(12, 300, 8.4e6, 0.2), "h", opt(func(o *CompareOptions) { o.LatencyFloor = 10 * time.Millisecond }), "", "+"},
		{"other profile", lognormal(12, 300, 8.4e6, 0.2), "other", DefaultCompareOptions(), "", "+"},
		{"other profile, forced", lognormal(12, 300, 8.4e6, 0.2), "other", opt(func(o *CompareOptions) { o.Force = true }), "latency incr +", "+"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Compare([]Column{col(t, "old", "h", base), col(t, "new", tc.hash, tc.y)}, tc.opt)
			var why string
			if len(c.Regressions) > 0 {
				why = c.Regressions[0].Why
			}
			if tc.want == "" && why != "" || !strings.HasPrefix(why, tc.want) || len(c.Regressions) > 1 {
				t.Fatalf("regressions %+v, want %q", c.Regressions, tc.want)
			}
			for _, r := range c.Rows {
				if strings.HasPrefix(r.Name, "latency incr") {
					if cell := r.Cells[1]; !strings.HasPrefix(cell.Text, tc.cell) || cell.Shift == nil {
						t.Fatalf("cell %+v, want it to start with %q", cell, tc.cell)
					}
					return
				}
			}
			t.Fatalf("no latency row in %+v", c.Rows)
		})
	}
}

// slowestTimes is v with its n slowest values multiplied by f.
func slowestTimes(v []float64, n int, f float64) []float64 {
	out := append([]float64(nil), v...)
	sort.Float64s(out)
	for i := len(out) - n; i < len(out); i++ {
		out[i] *= f
	}
	return out
}
