package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// spreadRow is one release mode's figures over every run, in µs.
type spreadRow struct {
	Mode string `json:"mode"`
	// ReleaseP50 is the median over runs of each run's median release
	// spread; ReleaseMax the largest of any burst.
	ReleaseP50 float64 `json:"release_p50_us"`
	ReleaseMax float64 `json:"release_max_us"`
	// First is the median over runs of the first burst's release spread;
	// FirstRatio is First / ReleaseP50 (the target: within 2×).
	First      float64 `json:"first_burst_us"`
	FirstRatio float64 `json:"first_ratio"`
	// ArrivalP50 and ArrivalMax are the spreads of the demo handlers'
	// start times within a burst: median over runs of the median, largest.
	ArrivalP50 float64 `json:"arrival_p50_us"`
	ArrivalMax float64 `json:"arrival_max_us"`
	Bursts     int     `json:"bursts"`
	Errors     int     `json:"errors"`
}

// TestSpread measures how tightly each release mode puts a burst of 30 on
// the wire, against one `collide demo` process (safe, SQLite) on this
// machine: COLLIDE_BENCH_REPEAT runs per mode (rotating order) of 20
// bursts of 30 `POST /orders` with a body, 10 bursts/s (so that the demo has served one burst before the next). It reports the
// release spread (collide's first release write to its last), the first
// burst of a run against the rest, and the arrival spread the demo saw
// (GET /_collide/arrivals), and writes spread.json and spread.md.
func TestSpread(t *testing.T) {
	requireBench(t)
	tl := binaries(t)
	ctx := context.Background()
	dir := t.TempDir()
	demo, err := StartDemo(ctx, tl.collide, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Stop()
	modes := []string{"barrier", "last-byte", "single-packet"}
	repeat := envInt("COLLIDE_BENCH_REPEAT", 5)
	type acc struct{ p50, first, arrP50 []float64 }
	accs := map[string]*acc{}
	rows := map[string]*spreadRow{}
	for _, m := range modes {
		accs[m], rows[m] = &acc{}, &spreadRow{Mode: m}
	}
	for rep := range repeat {
		for k := range modes {
			mode := modes[(rep+k)%len(modes)]
			m, arrivals, err := spreadRun(ctx, demo.URL, mode, filepath.Join(dir, fmt.Sprintf("h-%s-%d.jsonl", mode, rep)))
			if err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
			m.SetArrivals(arrivals)
			row, a := rows[mode], accs[mode]
			row.Bursts += m.Bursts
			row.Errors += m.Fail + m.Unknown
			row.ReleaseMax = max(row.ReleaseMax, us(m.ReleaseSpreadMax))
			row.ArrivalMax = max(row.ArrivalMax, us(m.ArrivalSpreadMax))
			a.p50 = append(a.p50, us(m.ReleaseSpreadP50))
			a.first = append(a.first, us(m.ReleaseSpreadFirst))
			a.arrP50 = append(a.arrP50, us(m.ArrivalSpreadP50))
			t.Logf("%s run %d: release p50 %v max %v first %v; arrival p50 %v max %v (%d bursts measured)", mode, rep,
				m.ReleaseSpreadP50, m.ReleaseSpreadMax, m.ReleaseSpreadFirst, m.ArrivalSpreadP50, m.ArrivalSpreadMax, m.ArrivalBursts)
		}
	}
	var out []spreadRow
	var md strings.Builder
	fmt.Fprintf(&md, "## Burst release spread (%d runs × 20 bursts of 30 per mode, one `collide demo` process, load %s)\n\n", repeat, LoadAvg())
	md.WriteString("| sync | release p50 | release max | first burst (median) | first / p50 | arrival p50 | arrival max | errors |\n|---|---|---|---|---|---|---|---|\n")
	for _, mode := range modes {
		row, a := rows[mode], accs[mode]
		row.ReleaseP50, row.First, row.ArrivalP50 = Median(a.p50), Median(a.first), Median(a.arrP50)
		if row.ReleaseP50 > 0 {
			row.FirstRatio = row.First / row.ReleaseP50
		}
		out = append(out, *row)
		fmt.Fprintf(&md, "| %s | %.0f µs | %.0f µs | %.0f µs | %.2f | %.0f µs | %.0f µs | %d |\n", mode,
			row.ReleaseP50, row.ReleaseMax, row.First, row.FirstRatio, row.ArrivalP50, row.ArrivalMax, row.Errors)
	}
	writeJSON(t, "spread.json", out)
	writeText(t, "spread.md", md.String())
	t.Log("\n" + md.String())
	for _, row := range out {
		if row.Errors > 0 {
			t.Errorf("%s: %d requests failed or unknown", row.Mode, row.Errors)
		}
	}
	for _, c := range spreadChecks(rows) {
		t.Logf("target %s: %.3f (want %s)", c.name, c.ratio, c.want)
		if !c.met {
			missed(t, "%s: %.3f, want %s", c.name, c.ratio, c.want)
		}
	}
}

// spreadCheck is one release-spread target, a ratio within one run.
type spreadCheck struct {
	name, want string
	ratio      float64
	met        bool
}

// spreadChecks are the release-spread targets of docs/benchmarks.md, each a
// ratio against a peer measured in the same run, so that the machine's load
// moves both sides: the held-back modes against the barrier (last-byte p50
// ≤ 0.5×, single-packet p50 ≤ 0.1× the barrier's; measured 0.19× and
// 0.008×), and each held-back mode's first burst within 2× of its median.
// The 1 ms max of last-byte is reported in the table, not enforced: this
// machine misses it (docs/benchmarks.md says why).
func spreadChecks(rows map[string]*spreadRow) []spreadCheck {
	barrier := rows["barrier"].ReleaseP50
	ratio := func(a, b float64) float64 {
		if b <= 0 {
			return math.Inf(1)
		}
		return a / b
	}
	var cs []spreadCheck
	for _, t := range []struct {
		mode string
		max  float64
	}{{"last-byte", 0.5}, {"single-packet", 0.1}} {
		r := ratio(rows[t.mode].ReleaseP50, barrier)
		cs = append(cs, spreadCheck{name: t.mode + " release p50 / barrier release p50", want: fmt.Sprintf("≤ %.1f", t.max), ratio: r, met: r <= t.max})
	}
	for _, mode := range []string{"last-byte", "single-packet"} {
		r := ratio(rows[mode].First, rows[mode].ReleaseP50)
		cs = append(cs, spreadCheck{name: mode + " first burst / its release p50", want: "≤ 2", ratio: r, met: r <= 2})
	}
	return cs
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// spreadRun is one run of 20 bursts of 30 in one mode; it returns the
// operation's metrics and the demo's arrivals (cleared afterwards, since op
// ids start again at 1 in every run).
func spreadRun(ctx context.Context, base, mode, histPath string) (*attacks.Metrics, map[uint64]time.Time, error) {
	specs, err := attacks.NewSpecs([]profiles.Operation{{
		Name: "create", Request: profiles.Request{Method: "POST", URL: "/orders", Body: `{"item": "book"}`,
			Headers: map[string]string{"Idempotency-Key": "spread-{{uuid}}"}},
		Burst: &profiles.Burst{Copies: 30, Sync: mode}, Bursts: 20,
		Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(2 * time.Second),
		Workers: 4, MaxWorkers: 8, Timeout: profiles.Duration(5 * time.Second),
	}})
	if err != nil {
		return nil, nil, err
	}
	hw, err := history.Create(histPath)
	if err != nil {
		return nil, nil, err
	}
	defer hw.Close()
	ms, err := attacks.Run(ctx, attacks.Options{BaseURL: base, History: hw, Rand: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}, specs)
	if err != nil {
		return nil, nil, err
	}
	arrivals, err := demoArrivals(ctx, base, true)
	return ms[0], arrivals, err
}

// demoArrivals reads the demo's arrival log and, if clear, empties it.
func demoArrivals(ctx context.Context, base string, clear bool) (map[uint64]time.Time, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_collide/arrivals", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Arrivals map[string]time.Time `json:"arrivals"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("arrivals: %w", err)
	}
	out := make(map[uint64]time.Time, len(body.Arrivals))
	for k, v := range body.Arrivals {
		id, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("arrivals: op id %q: %w", k, err)
		}
		out[id] = v
	}
	if clear {
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/_collide/arrivals", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
	}
	return out, nil
}
