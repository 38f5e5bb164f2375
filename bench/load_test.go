package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// loadConfig is one comparison's settings, the same for every tool.
type loadConfig struct {
	Path     string        `json:"path"`
	Duration time.Duration `json:"duration"`
	Repeat   int           `json:"repeat"`
	// Workers is the number of connections at saturation (collide workers,
	// vegeta -workers=-max-workers, wrk -c).
	Workers int `json:"workers"`
	// Rate is the fixed rate, with FixedWorkers initial and FixedMaxWorkers
	// most workers (collide's defaults).
	Rate            int `json:"rate"`
	FixedWorkers    int `json:"fixed_workers"`
	FixedMaxWorkers int `json:"fixed_max_workers"`
}

func loadConfigFromEnv() loadConfig {
	return loadConfig{
		Path:            envString("COLLIDE_BENCH_PATH", "/healthz"),
		Duration:        envDuration("COLLIDE_BENCH_DURATION", 6*time.Second),
		Repeat:          envInt("COLLIDE_BENCH_REPEAT", 5),
		Workers:         envInt("COLLIDE_BENCH_WORKERS", 32),
		Rate:            envInt("COLLIDE_BENCH_RATE", 2000),
		FixedWorkers:    16,
		FixedMaxWorkers: 64,
	}
}

const (
	modeSaturation = "saturation"
	modeFixed      = "fixed"
)

// TestLoad drives one `collide demo` process with collide, the vegeta CLI
// and wrk, at saturation and at a fixed rate, COLLIDE_BENCH_REPEAT times in
// rotating order, and writes the medians and the collide/vegeta ratios to
// load.json and load.md; then it profiles collide's CPU at saturation.
func TestLoad(t *testing.T) {
	requireBench(t)
	tl := binaries(t)
	cfg := loadConfigFromEnv()
	dir := t.TempDir()
	ctx := context.Background()
	demo, err := StartDemo(ctx, tl.collide, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Stop()
	t.Logf("demo %s (pid %d); load %s", demo.URL, demo.PID(), LoadAvg())

	lr := &loadRunner{t: t, tl: tl, cfg: cfg, dir: dir, demo: demo,
		collideB: os.Getenv("COLLIDE_BENCH_COLLIDE_B"), collideBEnv: strings.Fields(os.Getenv("COLLIDE_BENCH_COLLIDE_B_ENV"))}
	// Warm the server (page cache, connection pool, JIT-free but lazy init).
	if _, err := lr.vegeta(modeSaturation, 2*time.Second); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	order := []string{"collide", "vegeta"}
	if lr.collideB != "" {
		order = append(order, "collide-b")
	}
	if tl.wrk != "" {
		order = append(order, "wrk")
	} else {
		t.Log("wrk not installed: skipping it (make bench installs it when root)")
	}
	var runs []Load
	modes := strings.Split(envString("COLLIDE_BENCH_MODES", modeSaturation+","+modeFixed), ",")
	for rep := range cfg.Repeat {
		for _, mode := range modes {
			for i := range order {
				tool := order[(i+rep)%len(order)]
				if tool == "wrk" && mode == modeFixed {
					continue // Debian's wrk 4 has no fixed-rate mode (that is wrk2)
				}
				l, err := lr.run(tool, mode)
				if err != nil {
					t.Fatalf("%s %s: %v", tool, mode, err)
				}
				t.Logf("rep %d %-10s %-7s rate %7.0f/s through %7.0f/s p50 %8s p99 %8s cpu/req %6s server cpu/req %6s load %.2f %s",
					rep, mode, tool, l.Rate, l.Through, l.P50, l.P99, l.CPUPerReq, l.ServerCPUPerReq, l.Load1, l.Note)
				l.Rep = rep
				runs = append(runs, l)
				time.Sleep(500 * time.Millisecond)
			}
		}
	}
	sum := summarize(cfg, runs)
	if lr.collideB != "" {
		sum.CollideB = strings.TrimSpace(strings.Join(lr.collideBEnv, " ") + " " + lr.collideB)
	}
	sum.Machine = thisMachine()
	sum.VegetaBuild = tl.vegetaNote
	sum.Commands = lr.commands()

	if os.Getenv("COLLIDE_BENCH_PPROF") != "0" {
		top, err := lr.profileCollide(ctx)
		if err != nil {
			t.Errorf("profile: %v", err)
		} else {
			sum.Profile = top
		}
	}
	writeJSON(t, "load.json", sum)
	writeText(t, "load.md", sum.markdown())
	t.Log("\n" + sum.markdown())
	for _, c := range sum.Checks {
		if !c.Met {
			missed(t, "%s: %s", c.Name, c.Actual)
		}
	}
}

type loadRunner struct {
	t    *testing.T
	tl   tools
	cfg  loadConfig
	dir  string
	demo *Demo
	n    int
	// collideB, when set, is a second collide binary (e.g. with a proposed
	// change) run like collide as tool "collide-b", with collideBEnv added
	// to its environment (e.g. GOGC=400).
	collideB    string
	collideBEnv []string
}

func (lr *loadRunner) run(tool, mode string) (Load, error) {
	lr.n++
	load1 := Load1()
	before := lr.demo.CPU()
	var l Load
	var err error
	switch tool {
	case "collide":
		l, err = lr.collide(mode, lr.tl.collide, nil)
	case "collide-b":
		l, err = lr.collide(mode, lr.collideB, lr.collideBEnv)
		l.Tool = "collide-b"
	case "vegeta":
		l, err = lr.vegeta(mode, lr.cfg.Duration)
	case "wrk":
		l, err = lr.wrk()
	}
	if err != nil {
		return l, err
	}
	l.Mode, l.Load1 = mode, load1
	if l.Requests > 0 {
		l.CPUPerReq = l.CPU / time.Duration(l.Requests)
		l.ServerCPUPerReq = (lr.demo.CPU() - before) / time.Duration(l.Requests)
	}
	return l, nil
}

// profileYAML is the collide profile for mode: the demo URL as target.url,
// history recorded as in every run, one trivial invariant (a profile needs
// one).
func (lr *loadRunner) profileYAML(mode string, d time.Duration, requests int) string {
	c := lr.cfg
	rate := fmt.Sprintf("rate: max\n    workers: %d", c.Workers)
	if mode == modeFixed {
		rate = fmt.Sprintf("rate: %d/s\n    workers: %d\n    max_workers: %d", c.Rate, c.FixedWorkers, c.FixedMaxWorkers)
	}
	reqs := ""
	if requests > 0 {
		reqs = fmt.Sprintf("\n    requests: %d", requests)
	}
	return fmt.Sprintf(`name: bench-%s
about: collide's side of the load comparison (bench/load_test.go)
target:
  url: %s
database:
  driver: sqlite
  dsn: %s
operations:
  - name: get
    request: {method: GET, url: %s}
    %s
    duration: %s%s
    timeout: 5s
invariants:
  - name: the demo database answers
    query: SELECT count(*) AS n FROM counters
    expect: n >= 1
`, mode, lr.demo.URL, filepath.Join(lr.dir, "demo.db"), c.Path, rate, d, reqs)
}

func (lr *loadRunner) writeProfile(mode string, d time.Duration, requests int) (string, error) {
	path := filepath.Join(lr.dir, fmt.Sprintf("bench-%s.yaml", mode))
	return path, os.WriteFile(path, []byte(lr.profileYAML(mode, d, requests)), 0o644)
}

func (lr *loadRunner) collide(mode, bin string, env []string) (Load, error) {
	prof, err := lr.writeProfile(mode, lr.cfg.Duration, 0)
	if err != nil {
		return Load{}, err
	}
	out := filepath.Join(lr.dir, fmt.Sprintf("run-%d", lr.n))
	cmd := exec.Command(bin, "run", "-q", "-format", "none", "-out", out, prof)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	m, err := Measure(cmd, lr.cfg.Duration+90*time.Second, 0, nil)
	if err != nil {
		return Load{}, err
	}
	b, err := os.ReadFile(filepath.Join(out, harness.ResultFile))
	if err != nil {
		return Load{}, fmt.Errorf("exit %d, no result: %v\n%s", m.ExitCode, err, m.Stderr)
	}
	l, verdict, err := ParseCollide(b)
	if err != nil {
		return l, err
	}
	if verdict != "pass" {
		lr.t.Logf("collide run %s: verdict %s (exit %d): %s — its attack figures are still used", out, verdict, m.ExitCode, l.Note)
	}
	ops, err := countLines(filepath.Join(out, harness.HistoryFile))
	if err != nil {
		return l, err
	}
	if uint64(ops) != l.Requests {
		return l, fmt.Errorf("history has %d ops for %d requests", ops, l.Requests)
	}
	l.CPU, l.MaxRSSKB = m.CPU, m.MaxRSSKB
	_ = os.RemoveAll(out) // a saturation history is tens of MB
	return l, nil
}

func (lr *loadRunner) vegetaArgs(mode string, d time.Duration, targets, output string) []string {
	c := lr.cfg
	args := []string{"attack", "-targets=" + targets, "-duration=" + d.String(), "-timeout=5s", "-output=" + output}
	if mode == modeFixed {
		args = append(args, fmt.Sprintf("-rate=%d/1s", c.Rate), fmt.Sprintf("-workers=%d", c.FixedWorkers), fmt.Sprintf("-max-workers=%d", c.FixedMaxWorkers))
	} else {
		args = append(args, "-rate=0", fmt.Sprintf("-workers=%d", c.Workers), fmt.Sprintf("-max-workers=%d", c.Workers))
	}
	return args
}

func (lr *loadRunner) vegeta(mode string, d time.Duration) (Load, error) {
	targets := filepath.Join(lr.dir, "targets.txt")
	if err := os.WriteFile(targets, []byte("GET "+lr.demo.URL+lr.cfg.Path+"\n"), 0o644); err != nil {
		return Load{}, err
	}
	results := filepath.Join(lr.dir, "results.bin")
	defer os.Remove(results)
	m, err := Measure(exec.Command(lr.tl.vegeta, lr.vegetaArgs(mode, d, targets, results)...), d+60*time.Second, 0, nil)
	if err != nil {
		return Load{}, err
	}
	if m.ExitCode != 0 {
		return Load{}, fmt.Errorf("vegeta attack exit %d: %s", m.ExitCode, m.Stderr)
	}
	// The report's CPU counts too: collide computes its metrics (and writes
	// results.bin, history.jsonl) within its own process.
	rm, err := Measure(exec.Command(lr.tl.vegeta, "report", "-type=json", results), time.Minute, 0, nil)
	if err != nil || rm.ExitCode != 0 {
		return Load{}, fmt.Errorf("vegeta report: %v %s", err, rm.Stderr)
	}
	l, err := ParseVegeta(rm.Stdout)
	if err != nil {
		return l, err
	}
	l.CPU, l.MaxRSSKB = m.CPU+rm.CPU, m.MaxRSSKB
	return l, nil
}

func (lr *loadRunner) wrkArgs() []string {
	return []string{"-t2", fmt.Sprintf("-c%d", lr.cfg.Workers), fmt.Sprintf("-d%ds", int(lr.cfg.Duration.Seconds())), "--timeout", "5s", "--latency", lr.demo.URL + lr.cfg.Path}
}

func (lr *loadRunner) wrk() (Load, error) {
	m, err := Measure(exec.Command(lr.tl.wrk, lr.wrkArgs()...), lr.cfg.Duration+60*time.Second, 0, nil)
	if err != nil {
		return Load{}, err
	}
	if m.ExitCode != 0 {
		return Load{}, fmt.Errorf("wrk exit %d: %s%s", m.ExitCode, m.Stdout, m.Stderr)
	}
	l, err := ParseWrk(string(m.Stdout))
	if err != nil {
		return l, err
	}
	l.CPU, l.MaxRSSKB = m.CPU, m.MaxRSSKB
	return l, nil
}

// commands are the exact invocations, with the demo's URL as $URL.
func (lr *loadRunner) commands() map[string]string {
	u := lr.demo.URL
	sub := func(s string) string {
		s = strings.ReplaceAll(s, u, "$URL")
		return strings.ReplaceAll(s, lr.dir, "$TMP")
	}
	return map[string]string{
		"demo":               "collide demo -mode safe -db sqlite -dsn $TMP/demo.db -listen 127.0.0.1:$PORT   # URL=http://127.0.0.1:$PORT",
		"collide":            "collide run -q -format none -out $TMP/run-N $TMP/bench-MODE.yaml",
		"collide saturation": sub(lr.profileYAML(modeSaturation, lr.cfg.Duration, 0)),
		"collide fixed":      sub(lr.profileYAML(modeFixed, lr.cfg.Duration, 0)),
		"vegeta saturation":  "echo 'GET $URL" + lr.cfg.Path + "' > $TMP/targets.txt; vegeta " + sub(strings.Join(lr.vegetaArgs(modeSaturation, lr.cfg.Duration, lr.dir+"/targets.txt", lr.dir+"/results.bin"), " ")) + "; vegeta report -type=json $TMP/results.bin",
		"vegeta fixed":       "vegeta " + sub(strings.Join(lr.vegetaArgs(modeFixed, lr.cfg.Duration, lr.dir+"/targets.txt", lr.dir+"/results.bin"), " ")) + "; vegeta report -type=json $TMP/results.bin",
		"wrk saturation":     "wrk " + sub(strings.Join(lr.wrkArgs(), " ")),
	}
}

// profileCollide runs collide's saturation profile in this process (the
// same harness.Run the CLI calls) under the CPU profiler, and returns the
// top of the profile by cumulative time. The profile itself is saved as
// collide-cpu.pprof.
func (lr *loadRunner) profileCollide(ctx context.Context) (string, error) {
	prof, err := lr.writeProfile(modeSaturation, lr.cfg.Duration, 0)
	if err != nil {
		return "", err
	}
	p, err := profiles.Load(prof, nil)
	if err != nil {
		return "", err
	}
	path := filepath.Join(outDir(lr.t), "collide-cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	out := filepath.Join(lr.dir, "run-pprof")
	if err := pprof.StartCPUProfile(f); err != nil {
		return "", err
	}
	res, runErr := harness.Run(ctx, harness.Options{Profile: p, OutDir: out, Version: "bench"})
	pprof.StopCPUProfile()
	if res == nil {
		return "", fmt.Errorf("harness.Run: %v", runErr)
	}
	var requests uint64
	if len(res.Attack) == 1 {
		a := res.Attack[0]
		requests = a.Requests
		lr.t.Logf("profiled run: %d requests, %.0f/s (verdict %s %v)", a.Requests, a.Through, res.Verdict, runErr)
	}
	_ = os.RemoveAll(out)
	var top bytes.Buffer
	for _, args := range [][]string{
		{"tool", "pprof", "-top", "-cum", "-nodecount=45", path},
		{"tool", "pprof", "-top", "-cum", "-focus=collide-dev/collide", "-nodecount=30", path},
	} {
		cmd := exec.Command(goBin(), args...)
		cmd.Stdout, cmd.Stderr = &top, &top
		if err := cmd.Run(); err != nil {
			return top.String(), fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
		}
		top.WriteString("\n")
	}
	writeText(lr.t, "collide-cpu-top.txt", top.String())
	all, err := exec.Command(goBin(), "tool", "pprof", "-top", "-cum", "-nodecount=2000", path).Output()
	if err != nil {
		return top.String(), fmt.Errorf("go tool pprof: %v", err)
	}
	// The vegeta CLI's own profile of the same attack (vegeta -profile cpu
	// writes cpu.pprof in its working directory).
	vtop, vreq, err := lr.profileVegeta()
	if err != nil {
		lr.t.Logf("vegeta profile: %v", err)
	}
	return whereTimeGoes(string(all), requests, vtop, vreq), nil
}

func (lr *loadRunner) profileVegeta() (top string, requests uint64, err error) {
	targets := filepath.Join(lr.dir, "targets.txt")
	results := filepath.Join(lr.dir, "results-pprof.bin")
	defer os.Remove(results)
	cmd := exec.Command(lr.tl.vegeta, append([]string{"-profile", "cpu"}, lr.vegetaArgs(modeSaturation, lr.cfg.Duration, targets, results)...)...)
	cmd.Dir = lr.dir
	if m, err := Measure(cmd, lr.cfg.Duration+60*time.Second, 0, nil); err != nil || m.ExitCode != 0 {
		return "", 0, fmt.Errorf("vegeta -profile cpu attack: %v", err)
	}
	rep, err := exec.Command(lr.tl.vegeta, "report", "-type=json", results).Output()
	if err != nil {
		return "", 0, err
	}
	l, err := ParseVegeta(rep)
	if err != nil {
		return "", 0, err
	}
	b, err := os.ReadFile(filepath.Join(lr.dir, "cpu.pprof"))
	if err != nil {
		return "", 0, err
	}
	path := filepath.Join(outDir(lr.t), "vegeta-cpu.pprof")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return "", 0, err
	}
	out, err := exec.Command(goBin(), "tool", "pprof", "-top", "-cum", "-nodecount=2000", path).Output()
	return string(out), l.Requests, err
}

// profileRows are the functions whose cumulative CPU says where collide's
// time goes, in the profile of a saturation run.
var profileRows = []struct{ fn, what string }{
	{"github.com/tsenart/vegeta/v12/lib.(*Attacker).hit", "vegeta's worker: targeter, client.Do, body read"},
	{"github.com/collide-dev/collide/attacks.(*opRun).run.(*opRun).targeter.func8", "collide's targeter (render, headers, op parked)"},
	{"github.com/collide-dev/collide/attacks.(*opRun).RoundTrip", "collide's RoundTrip wrapper, transport included"},
	{"net/http.setRequestCancel", "Client.Timeout on a non-*http.Transport: timer + goroutine per request"},
	{"net/http.(*persistConn).writeLoop", "net/http writing requests"},
	{"net/http.(*persistConn).readLoop", "net/http reading responses"},
	{"github.com/collide-dev/collide/attacks.(*opRun).run", "collide's result loop (op, metrics, history)"},
	{"main.processAttack", "vegeta CLI's result loop (gob encoding)"},
	{"github.com/collide-dev/collide/history.(*Writer).Append", "history line encoding (appendOpJSON)"},
	{"github.com/tsenart/vegeta/v12/lib.(*Metrics).Add", "vegeta.Metrics.Add"},
	{"runtime.gcBgMarkWorker", "garbage collector (background)"},
	{"runtime.gcAssistAlloc", "garbage collector (assists)"},
	{"runtime.schedule", "scheduler"},
	{"github.com/collide-dev/collide/report.WriteVegetaResults", "after the attack: results.bin from history.jsonl"},
}

// whereTimeGoes renders the rows of profileRows found in `pprof -top -cum`
// listings of collide and of the vegeta CLI as a Markdown table, per request.
func whereTimeGoes(ctop string, creq uint64, vtop string, vreq uint64) string {
	ccum, ctotal := parseTop(ctop)
	vcum, vtotal := parseTop(vtop)
	per := func(c float64, ok bool, req uint64) string {
		if !ok || req == 0 {
			return "–"
		}
		return time.Duration(c / float64(req) * 1e9).Round(100 * time.Nanosecond).String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CPU profiles at saturation: `collide run` in process (harness.Run, %.2fs of samples, %d requests) and `vegeta -profile cpu attack` (%.2fs, %d requests); cumulative time per request.\n\n",
		ctotal, creq, vtotal, vreq)
	b.WriteString("| function (cumulative) | collide | vegeta CLI | what |\n|---|---|---|---|\n")
	c0, _ := ccum["total"]
	v0, _ := vcum["total"]
	fmt.Fprintf(&b, "| all samples | %s | %s | |\n", per(c0, creq > 0, creq), per(v0, vreq > 0, vreq))
	for _, r := range profileRows {
		c, cok := ccum[r.fn]
		v, vok := vcum[r.fn]
		if !cok && !vok {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.fn, per(c, cok, creq), per(v, vok, vreq), r.what)
	}
	return b.String()
}

// parseTop reads a `pprof -top -cum` listing: cumulative seconds by
// function, and the total ("total" holds it too).
func parseTop(top string) (map[string]float64, float64) {
	cum := map[string]float64{}
	total := 0.0
	for _, line := range strings.Split(top, "\n") {
		if i := strings.Index(line, "Total samples = "); i >= 0 {
			f := strings.Fields(line[i+len("Total samples = "):])
			if len(f) > 0 {
				if d, err := time.ParseDuration(f[0]); err == nil {
					total = d.Seconds()
					cum["total"] = total
				}
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		d, err := time.ParseDuration(f[3])
		if err != nil {
			continue
		}
		cum[strings.Join(f[5:], " ")] = d.Seconds()
	}
	return cum, total
}

func goBin() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
	}
}

// loadSummary is load.json.
type loadSummary struct {
	Config      loadConfig        `json:"config"`
	Machine     machine           `json:"machine"`
	VegetaBuild string            `json:"vegeta_build"`
	CollideB    string            `json:"collide_b,omitempty"`
	Runs        []Load            `json:"runs"`
	Medians     []Load            `json:"medians"`
	Checks      []check           `json:"checks"`
	Commands    map[string]string `json:"commands"`
	Profile     string            `json:"profile,omitempty"`
}

// check is one target, met or not. Ratio is the median over repeats of the
// ratio within each repeat (runs of one repeat are adjacent in time, so
// they share the machine's load); RatioOfMedians is the other estimate.
type check struct {
	Name           string  `json:"name"`
	Target         string  `json:"target"`
	Actual         string  `json:"actual"`
	Ratio          float64 `json:"ratio"`
	RatioOfMedians float64 `json:"ratio_of_medians"`
	Met            bool    `json:"met"`
}

var loadTools = []string{"collide", "collide-b", "vegeta", "wrk"}

func summarize(cfg loadConfig, runs []Load) *loadSummary {
	s := &loadSummary{Config: cfg, Runs: runs}
	med := map[string]Load{}
	for _, mode := range []string{modeSaturation, modeFixed} {
		for _, tool := range loadTools {
			var rate, through, p50, p99, cpu, scpu, rss, load, reqs []float64
			for _, r := range runs {
				if r.Tool != tool || r.Mode != mode {
					continue
				}
				rate = append(rate, r.Rate)
				through = append(through, r.Through)
				p50 = append(p50, float64(r.P50))
				p99 = append(p99, float64(r.P99))
				cpu = append(cpu, float64(r.CPUPerReq))
				scpu = append(scpu, float64(r.ServerCPUPerReq))
				rss = append(rss, float64(r.MaxRSSKB))
				load = append(load, r.Load1)
				reqs = append(reqs, float64(r.Requests))
			}
			if len(rate) == 0 {
				continue
			}
			m := Load{Tool: tool, Mode: mode, Rate: Median(rate), Through: Median(through),
				P50: time.Duration(Median(p50)), P99: time.Duration(Median(p99)),
				CPUPerReq: time.Duration(Median(cpu)), ServerCPUPerReq: time.Duration(Median(scpu)),
				MaxRSSKB: int64(Median(rss)), Load1: Median(load), Requests: uint64(Median(reqs)),
				Note: fmt.Sprintf("median of %d", len(rate))}
			med[tool+"/"+mode] = m
			s.Medians = append(s.Medians, m)
		}
	}
	// paired returns the median over repeats of f(a)/f(b) within a repeat.
	paired := func(mode, a, b string, f func(Load) float64) float64 {
		var rs []float64
		for _, x := range runs {
			if x.Tool != a || x.Mode != mode {
				continue
			}
			for _, y := range runs {
				if y.Tool == b && y.Mode == mode && y.Rep == x.Rep && f(y) != 0 {
					rs = append(rs, f(x)/f(y))
				}
			}
		}
		return Median(rs)
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return math.NaN()
		}
		return a / b
	}
	through := func(l Load) float64 { return l.Through }
	p50 := func(l Load) float64 { return float64(l.P50) }
	p99 := func(l Load) float64 { return float64(l.P99) }
	for _, tool := range []string{"collide", "collide-b"} {
		if c, ok := med[tool+"/"+modeSaturation]; ok {
			v := med["vegeta/"+modeSaturation]
			r := paired(modeSaturation, tool, "vegeta", through)
			s.Checks = append(s.Checks, check{Name: "saturation throughput " + tool + "/vegeta", Target: "≥ 0.90", Ratio: r,
				RatioOfMedians: ratio(c.Through, v.Through), Met: r >= 0.9,
				Actual: fmt.Sprintf("%.3f (medians %.0f/s vs %.0f/s = %.3f)", r, c.Through, v.Through, ratio(c.Through, v.Through))})
		}
		c, ok := med[tool+"/"+modeFixed]
		if !ok {
			continue
		}
		v := med["vegeta/"+modeFixed]
		for _, q := range []struct {
			name string
			f    func(Load) float64
			a, b time.Duration
		}{{"p50", p50, c.P50, v.P50}, {"p99", p99, c.P99, v.P99}} {
			r := paired(modeFixed, tool, "vegeta", q.f)
			s.Checks = append(s.Checks, check{Name: fmt.Sprintf("fixed %d/s latency %s %s/vegeta", cfg.Rate, q.name, tool), Target: "≤ 1.10", Ratio: r,
				RatioOfMedians: ratio(float64(q.a), float64(q.b)), Met: r <= 1.10,
				Actual: fmt.Sprintf("%.3f (medians %s vs %s = %.3f)", r, q.a.Round(time.Microsecond), q.b.Round(time.Microsecond), ratio(float64(q.a), float64(q.b)))})
		}
		r := paired(modeFixed, tool, "vegeta", through)
		s.Checks = append(s.Checks, check{Name: fmt.Sprintf("fixed %d/s throughput %s/vegeta", cfg.Rate, tool), Target: "≥ 0.99", Ratio: r,
			RatioOfMedians: ratio(c.Through, v.Through), Met: r >= 0.99,
			Actual: fmt.Sprintf("%.3f (medians %.0f/s vs %.0f/s)", r, c.Through, v.Through)})
	}
	return s
}

func (s *loadSummary) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Load: collide vs vegeta vs wrk\n\nGET %s on one `collide demo` process (safe, SQLite), %s per run, %d repeats in rotating order; medians.\n",
		s.Config.Path, s.Config.Duration, s.Config.Repeat)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), %s; load average at the end %s.\nvegeta: %s\n", s.Machine.CPUs, s.Machine.Model, s.Machine.Go, s.Machine.LoadAvg, s.VegetaBuild)
	if s.CollideB != "" {
		fmt.Fprintf(&b, "collide-b: %s\n", s.CollideB)
	}
	b.WriteString("\nClient CPU/req is the load generator's user+system time per request (vegeta: attack + report; collide: the whole run); server CPU/req is the demo's.\n\n")
	b.WriteString("| mode | tool | sent/s | ok/s | p50 | p99 | client CPU/req | server CPU/req | client peak RSS | load1 |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range s.Medians {
		mode := m.Mode
		if mode == modeSaturation {
			mode = fmt.Sprintf("saturation (%d conns)", s.Config.Workers)
		} else {
			mode = fmt.Sprintf("fixed %d/s", s.Config.Rate)
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %s | %s | %s | %s | %.0f MB | %.2f |\n", mode, m.Tool, m.Rate, m.Through,
			m.P50.Round(time.Microsecond), m.P99.Round(time.Microsecond), m.CPUPerReq.Round(100*time.Nanosecond),
			m.ServerCPUPerReq.Round(100*time.Nanosecond), float64(m.MaxRSSKB)/1024, m.Load1)
	}
	b.WriteString("\nRatios: the median over repeats of the ratio within a repeat (then the ratio of the medians).\n\n| target | wanted | actual | met |\n|---|---|---|---|\n")
	for _, c := range s.Checks {
		met := "yes"
		if !c.Met {
			met = "**no**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Name, c.Target, c.Actual, met)
	}
	if s.Profile != "" {
		b.WriteString("\n" + s.Profile + "\nFull listing: collide-cpu-top.txt; profile: collide-cpu.pprof (`go tool pprof -top -cum bench/out/collide-cpu.pprof`).\n")
	}
	b.WriteString("\nEvery run:\n\n| # | rep | mode | tool | ok/s | p50 | p99 | client CPU/req | load1 | note |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range s.Runs {
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %.0f | %s | %s | %s | %.2f | %s |\n", i+1, r.Rep, r.Mode, r.Tool, r.Through,
			r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.CPUPerReq.Round(100*time.Nanosecond), r.Load1, r.Note)
	}
	b.WriteString("\nCommands:\n\n")
	for _, k := range []string{"demo", "collide", "collide saturation", "collide fixed", "vegeta saturation", "vegeta fixed", "wrk saturation"} {
		if v, ok := s.Commands[k]; ok {
			fmt.Fprintf(&b, "%s:\n\n```\n%s\n```\n\n", k, strings.TrimRight(v, "\n"))
		}
	}
	return b.String()
}
