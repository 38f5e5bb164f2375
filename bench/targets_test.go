package bench

import (
	"math"
	"testing"
)

// TestBenchTargetsCanFail: the targets make bench enforces are judged by
// pure functions of the measured figures; each is met by the figures of
// docs/benchmarks.md and missed by figures that break it. (No clock here:
// this runs in the ordinary test suite.)
func TestBenchTargetsCanFail(t *testing.T) {
	measured := func() map[string]*spreadRow { // 2026-12-04, docs/benchmarks.md
		return map[string]*spreadRow{
			"barrier":       {Mode: "barrier", ReleaseP50: 614, First: 1530},
			"last-byte":     {Mode: "last-byte", ReleaseP50: 117, First: 197},
			"single-packet": {Mode: "single-packet", ReleaseP50: 5, First: 4},
		}
	}
	for _, tc := range []struct {
		name   string
		change func(map[string]*spreadRow)
		missed []string // names of the checks that must be missed
	}{
		{"measured figures meet every target", func(map[string]*spreadRow) {}, nil},
		{"last-byte as loose as the barrier", func(r map[string]*spreadRow) { r["last-byte"].ReleaseP50, r["last-byte"].First = 600, 600 },
			[]string{"last-byte release p50 / barrier release p50"}},
		{"single-packet no tighter than last-byte", func(r map[string]*spreadRow) { r["single-packet"].ReleaseP50, r["single-packet"].First = 117, 117 },
			[]string{"single-packet release p50 / barrier release p50"}},
		{"a slow first burst", func(r map[string]*spreadRow) { r["last-byte"].First = 300 },
			[]string{"last-byte first burst / its release p50"}},
		{"no barrier figure is no pass", func(r map[string]*spreadRow) { r["barrier"].ReleaseP50 = 0 },
			[]string{"last-byte release p50 / barrier release p50", "single-packet release p50 / barrier release p50"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := measured()
			tc.change(rows)
			var got []string
			for _, c := range spreadChecks(rows) {
				if !c.met {
					got = append(got, c.name)
				}
			}
			if len(got) != len(tc.missed) {
				t.Fatalf("missed %q, want %q", got, tc.missed)
			}
			for i := range got {
				if got[i] != tc.missed[i] {
					t.Fatalf("missed %q, want %q", got, tc.missed)
				}
			}
		})
	}
	for _, tc := range []struct {
		name  string
		slope float64
		met   bool
	}{
		{"flat (measured, ok requests)", 0.07, true},
		{"flat (measured, failed requests)", 0.22, true},
		{"error texts kept (before 2026-11-29)", 16.76, false},
		{"too few samples to say", math.NaN(), false},
	} {
		t.Run("memory slope/"+tc.name, func(t *testing.T) {
			if got := slopeMet(tc.slope); got != tc.met {
				t.Fatalf("slopeMet(%v) = %v, want %v", tc.slope, got, tc.met)
			}
		})
	}
}
