package report

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"

	"golang.org/x/perf/benchmath"

	"github.com/collide-dev/collide/history"
)

// DefaultMaxLatencySamples is how many per-request latencies of one
// operation compare keeps from one run: a run with more keeps a uniform
// random sample of that many (reservoir sampling with a fixed seed, so the
// same two runs always compare the same way). 1000 per side detects a 5%
// shift in the median and keeps the confidence interval's n1·n2 pairwise
// differences at a million (8 MB, a fraction of a second).
const DefaultMaxLatencySamples = 1000

// latencySampleSeed seeds the reservoir sampling of latencies.
const latencySampleSeed = 0x636f6c6c696465 // "collide"

// OpLatencies are the per-request latencies of one operation of one run.
type OpLatencies struct {
	// Nanos are latencies in nanoseconds (complete − invoke) of the
	// operation's requests that got a response (ok and fail outcomes); an
	// unknown outcome's latency is only how long collide waited, and the
	// unknown share has its own row.
	Nanos []float64
	// Total is how many such requests the run had; more than len(Nanos)
	// when the latencies were sampled.
	Total int
}

// Sampled reports whether Nanos is a sample of more requests.
func (l *OpLatencies) Sampled() bool { return l.Total > len(l.Nanos) }

// LoadLatencies reads the per-request latencies of every operation from a
// history file, keeping at most maxPerOp per operation (a seeded uniform
// sample; maxPerOp ≤ 0 keeps all).
func LoadLatencies(historyPath string, maxPerOp int) (map[string]*OpLatencies, error) {
	out := map[string]*OpLatencies{}
	rngs := map[string]*rand.Rand{}
	err := history.Stream(historyPath, false, func(op *history.Op) error {
		if op.Outcome == history.Unknown || op.Status == 0 {
			return nil
		}
		l := out[op.Op]
		if l == nil {
			l = &OpLatencies{}
			out[op.Op] = l
			h := fnv.New64a()
			h.Write([]byte(op.Op))
			rngs[op.Op] = rand.New(rand.NewPCG(latencySampleSeed, h.Sum64()))
		}
		v := float64(max(op.Latency(), 0))
		l.Total++
		switch {
		case maxPerOp <= 0 || len(l.Nanos) < maxPerOp:
			l.Nanos = append(l.Nanos, v)
		default: // reservoir sampling (Algorithm R)
			if j := rngs[op.Op].IntN(l.Total); j < maxPerOp {
				l.Nanos[j] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: latencies: %w", err)
	}
	return out, nil
}

// LatencyShift compares the latencies of one operation in two runs.
type LatencyShift struct {
	// N1 and N2 are the numbers of latencies compared (after sampling).
	N1 int `json:"n1"`
	N2 int `json:"n2"`
	// Sampled is set when either run had more requests than were compared.
	Sampled bool `json:"sampled,omitempty"`
	// Median1 and Median2 are the median latencies, in nanoseconds.
	Median1 float64 `json:"median1_ns"`
	Median2 float64 `json:"median2_ns"`
	// P is the p-value of the Mann–Whitney U test (benchmath.AssumeNothing,
	// as benchstat): the chance of latencies this different if both runs
	// drew from the same distribution.
	P float64 `json:"p"`
	// Alpha is the significance level the test was read at.
	Alpha float64 `json:"alpha"`
	// Delta is the estimated relative shift of the latencies, run 2 against
	// run 1 (0.3 = 30% slower): the Hodges–Lehmann estimate, the median of
	// every pairwise log-ratio, the shift the U test tests. Lo and Hi bound
	// it at confidence 1 − Alpha.
	Delta float64 `json:"delta"`
	Lo    float64 `json:"delta_lo"`
	Hi    float64 `json:"delta_hi"`
}

// Significant reports whether the U test rejects "same distribution" at
// Alpha.
func (s LatencyShift) Significant() bool { return s.P < s.Alpha }

// String is the shift as benchstat shows one: "+31% [+27%, +35%] p=0.000
// n=640+652", or "~ (p=0.410 n=640+652)" when not significant.
func (s LatencyShift) String() string {
	n := fmt.Sprintf("n=%d+%d", s.N1, s.N2)
	if s.Sampled {
		n += " sampled"
	}
	if !s.Significant() {
		return fmt.Sprintf("~ (p=%.3f %s)", s.P, n)
	}
	return fmt.Sprintf("%s [%s, %s] p=%.3f %s", fmtPercent(s.Delta), fmtPercent(s.Lo), fmtPercent(s.Hi), s.P, n)
}

// CompareLatencies tests whether latencies y (the later run) differ from x,
// and estimates by how much with a confidence interval at 1 − alpha. It
// needs at least 2 latencies on each side.
func CompareLatencies(x, y []float64, alpha float64) (LatencyShift, error) {
	if len(x) < 2 || len(y) < 2 {
		return LatencyShift{}, fmt.Errorf("need at least 2 latencies per run, have %d and %d", len(x), len(y))
	}
	th := &benchmath.Thresholds{CompareAlpha: alpha}
	s1 := benchmath.NewSample(append([]float64(nil), x...), th) // sorts
	s2 := benchmath.NewSample(append([]float64(nil), y...), th)
	c := benchmath.AssumeNothing.Compare(s1, s2)
	if len(c.Warnings) > 0 && c.P == 1 {
		return LatencyShift{}, fmt.Errorf("u test: %w", c.Warnings[0])
	}
	s := LatencyShift{N1: len(x), N2: len(y), P: c.P, Alpha: alpha,
		Median1: median(s1.Values), Median2: median(s2.Values)}
	s.Delta, s.Lo, s.Hi = hodgesLehmannRatio(s1.Values, s2.Values, 1-alpha)
	return s, nil
}

// hodgesLehmannRatio estimates the relative shift from x to y and its
// distribution-free confidence interval (Hollander & Wolfe, Nonparametric
// Statistical Methods, 3rd ed., §4.3: the interval between the K-th smallest
// and K-th largest pairwise differences, K from the U statistic's normal
// approximation), on log latencies, so that the shift is a ratio. x and y
// are sorted; zero latencies count as 1ns.
func hodgesLehmannRatio(x, y []float64, confidence float64) (delta, lo, hi float64) {
	n1, n2 := len(x), len(y)
	d := make([]float64, 0, n1*n2)
	for _, b := range y {
		lb := math.Log(max(b, 1))
		for _, a := range x {
			d = append(d, lb-math.Log(max(a, 1)))
		}
	}
	sort.Float64s(d)
	m := len(d)
	z := math.Sqrt2 * math.Erfinv(confidence)
	k := int(math.Floor(float64(n1*n2)/2 - z*math.Sqrt(float64(n1*n2*(n1+n2+1))/12)))
	k = min(max(k, 0), m-1)
	return math.Expm1(median(d)), math.Expm1(d[k]), math.Expm1(d[m-1-k])
}

// median of sorted values.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
