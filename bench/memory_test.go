package bench

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/harness"
)

// memTargetMB is the ceiling for a one-million-request run's peak RSS.
const memTargetMB = 200

// memSlopeTargetMBPer100k is the ceiling for RSS growth after the first 10%
// of a run, in MB per 100,000 requests (10 bytes a request): nothing may be
// kept per request, whether it succeeds or fails with its own error text.
// Measured: +0.07 (ok) and +0.22 (failed) MB per 100k; the error texts kept
// by vegeta's metrics before 2026-11-29 grew it by +16.76.
const memSlopeTargetMBPer100k = 1.0

// slopeMet says whether an RSS slope meets memSlopeTargetMBPer100k; an
// unmeasured slope (too few samples) does not.
func slopeMet(mbPer100k float64) bool {
	return !math.IsNaN(mbPer100k) && mbPer100k <= memSlopeTargetMBPer100k
}

// TestMemory runs collide with COLLIDE_BENCH_REQUESTS (default 1,000,000)
// requests as fast as 32 workers go against `collide demo`, history
// recording on, and measures the collide process's peak RSS (wait4's
// ru_maxrss, as /usr/bin/time -v reports it) with its RSS sampled every
// 500 ms against the history bytes written: a flat line means nothing is
// kept per request.
func TestMemory(t *testing.T) {
	requireBench(t)
	tl := binaries(t)
	cfg := loadConfigFromEnv()
	requests := envInt("COLLIDE_BENCH_REQUESTS", 1_000_000)
	limit := envDuration("COLLIDE_BENCH_MEMORY_DURATION", 240*time.Second)
	dir := t.TempDir()
	demo, err := StartDemo(context.Background(), tl.collide, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Stop()
	lr := &loadRunner{t: t, tl: tl, cfg: cfg, dir: dir, demo: demo}
	prof, err := lr.writeProfile(modeSaturation, limit, requests)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run-memory")
	hist := filepath.Join(out, harness.HistoryFile)
	probe := func() int64 {
		fi, err := os.Stat(hist)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	load := LoadAvg()
	cmd := exec.Command(tl.collide, "run", "-q", "-format", "none", "-out", out, prof)
	m, err := Measure(cmd, limit+120*time.Second, 500*time.Millisecond, probe)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, harness.ResultFile))
	if err != nil {
		t.Fatalf("exit %d, no result: %v\n%s", m.ExitCode, err, m.Stderr)
	}
	l, verdict, err := ParseCollide(b)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := countLines(hist)
	if err != nil {
		t.Fatal(err)
	}
	histBytes := probe()
	r := memoryResult{
		Requests: l.Requests, HistoryOps: ops, HistoryMB: float64(histBytes) / (1 << 20), Verdict: verdict, Note: l.Note,
		Wall: m.Wall, Rate: l.Through, PeakRSSMB: float64(m.MaxRSSKB) / 1024, TargetMB: memTargetMB,
		CPUPerReq: m.CPU / time.Duration(max(l.Requests, 1)), LoadAvgStart: load, LoadAvgEnd: LoadAvg(), Machine: thisMachine(),
		Command: "collide run -q -format none -out $TMP/run-memory " + filepath.Base(prof),
		Profile: strings.ReplaceAll(strings.ReplaceAll(lr.profileYAML(modeSaturation, limit, requests), demo.URL, "$URL"), dir, "$TMP"),
	}
	// RSS against history progress: the slope in MB per 100k ops after the
	// first 10% (warm-up: pools, buffers, the digest filling up).
	var xs, ys []float64
	for _, s := range m.Samples {
		if s.Extra <= 0 || histBytes <= 0 {
			continue
		}
		frac := float64(s.Extra) / float64(histBytes)
		r.Samples = append(r.Samples, memSample{At: s.At.Round(time.Millisecond), Progress: frac, RSSMB: float64(s.RSSKB) / 1024})
		if frac >= 0.1 {
			xs = append(xs, frac*float64(ops)/100_000)
			ys = append(ys, float64(s.RSSKB)/1024)
		}
	}
	r.SlopeMBPer100k = slope(xs, ys)
	r.SlopeTargetMB = memSlopeTargetMBPer100k
	r.Met = r.PeakRSSMB < memTargetMB && ops == requests && slopeMet(r.SlopeMBPer100k)
	for _, p := range []float64{0.1, 0.5, 0.9} {
		r.RSSAt = append(r.RSSAt, fmt.Sprintf("%.0f%%: %.1f MB", p*100, rssAt(r.Samples, p)))
	}
	writeJSON(t, "memory.json", r)
	writeText(t, "memory.md", r.markdown())
	t.Log("\n" + r.markdown())
	if ops != requests {
		t.Errorf("history has %d ops, want %d (verdict %s, %s)", ops, requests, verdict, l.Note)
	}
	if r.PeakRSSMB >= memTargetMB {
		missed(t, "peak RSS %.1f MB, target < %d MB", r.PeakRSSMB, memTargetMB)
	}
	if !slopeMet(r.SlopeMBPer100k) {
		missed(t, "RSS slope after 10%% %+.2f MB per 100k ops, target ≤ %.1f", r.SlopeMBPer100k, memSlopeTargetMBPer100k)
	}
}

type memSample struct {
	At       time.Duration `json:"at"`
	Progress float64       `json:"progress"` // history bytes / final history bytes
	RSSMB    float64       `json:"rss_mb"`
}

type memoryResult struct {
	Requests       uint64        `json:"requests"`
	HistoryOps     int           `json:"history_ops"`
	HistoryMB      float64       `json:"history_mb"`
	Verdict        string        `json:"verdict"`
	Note           string        `json:"note,omitempty"`
	Wall           time.Duration `json:"wall"`
	Rate           float64       `json:"ok_per_second"`
	CPUPerReq      time.Duration `json:"cpu_per_request"`
	PeakRSSMB      float64       `json:"peak_rss_mb"`
	TargetMB       int           `json:"target_mb"`
	Met            bool          `json:"met"`
	SlopeMBPer100k float64       `json:"rss_slope_mb_per_100k_ops"`
	SlopeTargetMB  float64       `json:"rss_slope_target_mb_per_100k_ops"`
	RSSAt          []string      `json:"rss_at_progress"`
	LoadAvgStart   string        `json:"loadavg_start"`
	LoadAvgEnd     string        `json:"loadavg_end"`
	Machine        machine       `json:"machine"`
	Command        string        `json:"command"`
	Profile        string        `json:"profile"`
	Samples        []memSample   `json:"samples"`
}

// metText renders whether a target was met, as the tables say it.
func metText(met bool) string {
	if met {
		return "met"
	}
	return "**not met**"
}

func (r memoryResult) markdown() string {
	return fmt.Sprintf(`# Memory: one run of %d requests

| figure | value |
|---|---|
| requests / history ops | %d / %d (%.0f MB of history.jsonl) |
| wall time, ok/s | %s, %.0f/s |
| collide CPU per request | %s |
| peak RSS (ru_maxrss) | %.1f MB (target < %d MB: %s) |
| RSS during the run | %s |
| RSS slope after 10%% | %+.2f MB per 100k ops (target ≤ %.1f: %s) |
| verdict | %s |
| load average start → end | %s → %s (%d CPUs) |

Command: `+"`%s`"+` with

`+"```yaml\n%s```\n", r.Requests, r.Requests, r.HistoryOps, r.HistoryMB, r.Wall.Round(100*time.Millisecond), r.Rate, r.CPUPerReq.Round(100*time.Nanosecond),
		r.PeakRSSMB, r.TargetMB, metText(r.PeakRSSMB < float64(r.TargetMB)), strings.Join(r.RSSAt, ", "), r.SlopeMBPer100k, r.SlopeTargetMB, metText(slopeMet(r.SlopeMBPer100k)), r.verdictText(), r.LoadAvgStart, r.LoadAvgEnd, r.Machine.CPUs, r.Command, r.Profile)
}

func (r memoryResult) verdictText() string {
	if r.Note != "" {
		return r.Note
	}
	return r.Verdict
}

// slope is the least-squares slope of ys over xs (NaN for fewer than 2).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 {
		return math.NaN()
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / d
}

// rssAt is the RSS of the first sample at or past progress p.
func rssAt(s []memSample, p float64) float64 {
	for _, x := range s {
		if x.Progress >= p {
			return x.RSSMB
		}
	}
	return math.NaN()
}

// TestMemoryUniqueErrors is TestMemory's failure path: COLLIDE_BENCH_ERR_REQUESTS
// (default 200,000) requests to a loopback listener that reads each request
// and closes the connection, with {{seq}} in the URL, so every request fails
// with its own error text (`Get "…/x/123": EOF`), as timeouts and resets
// under chaos do. It reports the RSS growth per 100k failed requests.
func TestMemoryUniqueErrors(t *testing.T) {
	requireBench(t)
	tl := binaries(t)
	requests := envInt("COLLIDE_BENCH_ERR_REQUESTS", 200_000)
	limit := 120 * time.Second
	dir := t.TempDir()
	demo, err := StartDemo(context.Background(), tl.collide, dir) // for its database file only
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Stop()
	closer, err := startCloser()
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	prof := filepath.Join(dir, "bench-errors.yaml")
	yaml := fmt.Sprintf(`name: bench-unique-errors
about: every request fails with its own error text (bench/memory_test.go)
target:
  url: http://%s
database:
  driver: sqlite
  dsn: %s
operations:
  - name: get
    request: {method: GET, url: "/x/{{seq}}"}
    rate: max
    workers: 32
    requests: %d
    duration: %s
    timeout: 5s
invariants:
  - name: the demo database answers
    query: SELECT count(*) AS n FROM counters
    expect: n >= 1
`, closer.Addr(), filepath.Join(dir, "demo.db"), requests, limit)
	if err := os.WriteFile(prof, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run-errors")
	hist := filepath.Join(out, harness.HistoryFile)
	probe := func() int64 {
		fi, err := os.Stat(hist)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	load := LoadAvg()
	m, err := Measure(exec.Command(tl.collide, "run", "-q", "-format", "none", "-out", out, prof), limit+120*time.Second, 500*time.Millisecond, probe)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, harness.ResultFile))
	if err != nil {
		t.Fatalf("exit %d, no result: %v\n%s", m.ExitCode, err, m.Stderr)
	}
	l, _, err := ParseCollide(b)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := countLines(hist)
	if err != nil {
		t.Fatal(err)
	}
	histBytes := probe()
	var xs, ys []float64
	var samples []memSample
	for _, s := range m.Samples {
		if s.Extra <= 0 || histBytes <= 0 {
			continue
		}
		frac := float64(s.Extra) / float64(histBytes)
		samples = append(samples, memSample{At: s.At.Round(time.Millisecond), Progress: frac, RSSMB: float64(s.RSSKB) / 1024})
		if frac >= 0.1 {
			xs = append(xs, frac*float64(ops)/100_000)
			ys = append(ys, float64(s.RSSKB)/1024)
		}
	}
	r := memoryErrorsResult{Requests: l.Requests, HistoryOps: ops, PeakRSSMB: float64(m.MaxRSSKB) / 1024, SlopeMBPer100k: slope(xs, ys),
		Wall: m.Wall, Rate: float64(l.Requests) / max(m.Wall.Seconds(), 1e-9), LoadAvgStart: load, LoadAvgEnd: LoadAvg(), Note: l.Note,
		Command: "collide run -q -format none -out $TMP/run-errors bench-errors.yaml", Profile: strings.ReplaceAll(strings.ReplaceAll(yaml, closer.Addr(), "$CLOSER"), dir, "$TMP"),
		Samples: samples}
	r.ProjectedMBAt1M = r.PeakRSSMB + r.SlopeMBPer100k*float64(1_000_000-ops)/100_000
	r.SlopeTargetMB = memSlopeTargetMBPer100k
	r.Met = slopeMet(r.SlopeMBPer100k) && r.ProjectedMBAt1M < memTargetMB
	writeJSON(t, "memory-errors.json", r)
	md := fmt.Sprintf(`# Memory: %d requests that each fail with their own error

| figure | value |
|---|---|
| requests / history ops | %d / %d |
| wall time | %s |
| peak RSS (ru_maxrss) | %.1f MB |
| RSS slope after 10%% | %+.2f MB per 100k failed requests (target ≤ %.1f: %s) |
| projected peak at 1,000,000 | %.0f MB (target < %d MB: %s) |
| verdict | %s |
| load average start → end | %s → %s |

Command: `+"`%s`"+` with a loopback listener ($CLOSER) that reads each request and closes the connection, and

`+"```yaml\n%s```\n", requests, r.Requests, r.HistoryOps, r.Wall.Round(100*time.Millisecond), r.PeakRSSMB,
		r.SlopeMBPer100k, r.SlopeTargetMB, metText(slopeMet(r.SlopeMBPer100k)), r.ProjectedMBAt1M, memTargetMB, metText(r.ProjectedMBAt1M < memTargetMB),
		r.Note, r.LoadAvgStart, r.LoadAvgEnd, r.Command, r.Profile)
	writeText(t, "memory-errors.md", md)
	t.Log("\n" + md)
	if !slopeMet(r.SlopeMBPer100k) {
		missed(t, "RSS slope after 10%% %+.2f MB per 100k failed requests, target ≤ %.1f", r.SlopeMBPer100k, memSlopeTargetMBPer100k)
	}
	if r.ProjectedMBAt1M >= memTargetMB {
		missed(t, "projected peak RSS at 1,000,000 failed requests %.0f MB, target < %d MB", r.ProjectedMBAt1M, memTargetMB)
	}
}

type memoryErrorsResult struct {
	Requests        uint64        `json:"requests"`
	HistoryOps      int           `json:"history_ops"`
	Wall            time.Duration `json:"wall"`
	Rate            float64       `json:"requests_per_second"`
	PeakRSSMB       float64       `json:"peak_rss_mb"`
	SlopeMBPer100k  float64       `json:"rss_slope_mb_per_100k_ops"`
	SlopeTargetMB   float64       `json:"rss_slope_target_mb_per_100k_ops"`
	ProjectedMBAt1M float64       `json:"projected_peak_mb_at_1m"`
	Met             bool          `json:"met"`
	Note            string        `json:"note,omitempty"`
	LoadAvgStart    string        `json:"loadavg_start"`
	LoadAvgEnd      string        `json:"loadavg_end"`
	Command         string        `json:"command"`
	Profile         string        `json:"profile"`
	Samples         []memSample   `json:"samples"`
}

// closer accepts loopback connections, reads one request and closes them.
type closer struct{ ln net.Listener }

func startCloser() (*closer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
			}()
		}
	}()
	return &closer{ln: ln}, nil
}

func (c *closer) Addr() string { return c.ln.Addr().String() }
func (c *closer) Close() error { return c.ln.Close() }
