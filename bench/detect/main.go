package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/mysql"
	"github.com/collide-dev/collide/database/sqlite"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// options are the command's flags.
type options struct {
	n        int
	db       string
	dsn      string
	redis    string
	names    []string
	out      string
	markdown string
	sets     []string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o options
	var names, sets string
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.n, "n", 20, "runs per profile and mode")
	fs.StringVar(&o.db, "db", sqlite.Name, "database of the demo: sqlite, postgres or mysql (MariaDB; mariadb is the same)")
	fs.StringVar(&o.dsn, "dsn", "", "server for -db postgres (default $COLLIDE_TEST_PG_DSN or "+defaultPG+
		") or -db mysql (default $COLLIDE_TEST_MYSQL_DSN or "+defaultMySQL+"); a private database is created on it")
	fs.StringVar(&o.redis, "redis", "", "Redis URL for the demo's locks (target.demo.redis), e.g. redis://127.0.0.1:6379/0")
	fs.StringVar(&names, "profiles", "", "comma-separated built-in profiles (default: all)")
	fs.StringVar(&o.out, "out", "", "keep every run folder below this folder (default: a temporary folder, removed)")
	fs.StringVar(&o.markdown, "markdown", "", "also write the table as Markdown to this file")
	fs.StringVar(&sets, "set", "", "extra overrides for every run, separated by ';' (e.g. 'operations[0].duration=1s')")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.db == "mariadb" {
		o.db = mysql.Name
	}
	drv, err := database.Lookup(o.db)
	if o.n < 1 || err != nil || !drv.Features().Demo || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "detect: want -n ≥ 1, -db sqlite, postgres or mysql, and no arguments")
		return 2
	}
	for _, b := range profiles.Builtins() {
		o.names = append(o.names, b.Name)
	}
	if names != "" {
		want := strings.Split(names, ",")
		for _, n := range want {
			if !slices.Contains(o.names, n) {
				fmt.Fprintf(stderr, "detect: no built-in profile %q (built-ins: %s)\n", n, strings.Join(o.names, ", "))
				return 2
			}
		}
		o.names = want
	}
	if sets != "" {
		o.sets = strings.Split(sets, ";")
	}
	out := o.out
	if out == "" {
		tmp, err := os.MkdirTemp("", "collide-detect-")
		if err != nil {
			fmt.Fprintln(stderr, "detect:", err)
			return 3
		}
		defer os.RemoveAll(tmp)
		out = tmp
	}
	var dbSets []string
	if !drv.Features().InProcess {
		private := privateDatabase
		if o.db == mysql.Name {
			private = privateMySQLDatabase
		}
		dsn, drop, err := private(ctx, o.dsn)
		if err != nil {
			fmt.Fprintln(stderr, "detect:", err)
			return 3
		}
		defer drop()
		dbSets = []string{"database.driver=" + o.db, "database.dsn=" + dsn}
	}
	if o.redis != "" {
		dbSets = append(dbSets, "target.demo.redis="+o.redis)
	}

	began := time.Now()
	var stats []*profileStats
	for _, name := range o.names {
		ps := &profileStats{name: name}
		stats = append(stats, ps)
		// Racy and safe runs alternate, so that a slow spell of the machine
		// hits both alike.
		for i := range o.n {
			for _, mode := range []string{"racy", "safe"} {
				if ctx.Err() != nil {
					fmt.Fprintln(stderr, "detect: interrupted")
					return 130
				}
				dir := filepath.Join(out, name, fmt.Sprintf("%s-%02d", mode, i))
				r := runOnce(ctx, name, mode, dir, append(append([]string{}, dbSets...), o.sets...))
				ps.add(mode, r)
				fmt.Fprintf(stderr, "%-18s %-4s %2d/%d  %-7s %s\n", name, mode, i+1, o.n, r.verdict, r.note())
				if o.out == "" {
					os.RemoveAll(dir)
				}
			}
		}
	}
	fmt.Fprintf(stdout, "collide detection: N=%d racy and %d safe runs per profile, %s demo, %s (%s)\n\n",
		o.n, o.n, o.db, time.Now().Format("2006-01-02"), time.Since(began).Round(time.Second))
	if err := renderTable(stdout, stats, false); err != nil {
		fmt.Fprintln(stderr, "detect:", err)
		return 3
	}
	notes(stdout, stats)
	perInvariant(stdout, stats)
	if o.markdown != "" {
		var b strings.Builder
		if err := renderTable(&b, stats, true); err != nil {
			fmt.Fprintln(stderr, "detect:", err)
			return 3
		}
		notes(&b, stats)
		perInvariant(&b, stats)
		if err := os.WriteFile(o.markdown, []byte(b.String()), 0o644); err != nil {
			fmt.Fprintln(stderr, "detect:", err)
			return 3
		}
	}
	return 0
}

// runResult is what one run gave.
type runResult struct {
	verdict report.Verdict
	seed    int64
	// first is the time from the first request to the first violation (see
	// firstViolation); fromHistory tells how it was found.
	first       time.Duration
	fromHistory bool
	took        time.Duration // the run's wall time
	err         string
	// failed names the invariants that failed.
	failed []string
	// think is the demo's think time; sync the release mode of the run's
	// bursts ("" without bursts), with their median release and arrival
	// spreads (of the operation that sent the most bursts).
	think               time.Duration
	sync                string
	release, arrival    time.Duration
	hasRelease, arrived bool
}

func (r runResult) note() string {
	switch {
	case r.err != "":
		return r.err
	case r.verdict == report.Fail:
		return fmt.Sprintf("first violation %s, seed %d", fmtDur(r.first), r.seed)
	default:
		return fmt.Sprintf("seed %d", r.seed)
	}
}

// runOnce runs built-in profile name in mode, in folder dir.
func runOnce(ctx context.Context, name, mode, dir string, sets []string) runResult {
	sets = append([]string{"target.demo.mode=" + mode}, sets...)
	p, err := profiles.Load(name, sets)
	if err != nil {
		return runResult{verdict: report.Error, err: err.Error()}
	}
	res, err := harness.Run(ctx, harness.Options{Profile: p, Overrides: sets, OutDir: dir, Version: "bench-detect"})
	if res == nil {
		return runResult{verdict: report.Error, err: fmt.Sprint(err)}
	}
	r := runResult{verdict: res.Verdict, seed: res.Seed}
	if p.Target.Demo != nil {
		r.think = p.Target.Demo.Think.D()
	}
	bursts := 0
	for _, m := range res.Attack {
		if m != nil && m.Bursts > bursts {
			bursts = m.Bursts
			r.sync, r.release, r.hasRelease = m.Sync, m.ReleaseSpreadP50, true
			r.arrival, r.arrived = m.ArrivalSpreadP50, m.ArrivalBursts > 0
		}
	}
	for _, inv := range res.Invariants {
		if inv.Verdict == invariants.Fail {
			r.failed = append(r.failed, inv.Name)
		}
	}
	if err != nil {
		r.err = firstLine(err.Error())
	} else if res.Error != "" {
		r.err = firstLine(res.Error)
	}
	first, fromHistory, took, verr := firstViolation(p, res, filepath.Join(dir, harness.HistoryFile))
	if verr != nil && r.err == "" && res.Verdict == report.Fail {
		r.err = "first violation: " + verr.Error()
	}
	r.first, r.fromHistory, r.took = first, fromHistory, took
	return r
}

// profileStats gathers one profile's runs.
type profileStats struct {
	name       string
	racy, safe []runResult
}

func (ps *profileStats) add(mode string, r runResult) {
	if mode == "racy" {
		ps.racy = append(ps.racy, r)
	} else {
		ps.safe = append(ps.safe, r)
	}
}

func count(rs []runResult, v ...report.Verdict) int {
	n := 0
	for _, r := range rs {
		if slices.Contains(v, r.verdict) {
			n++
		}
	}
	return n
}

func renderTable(w io.Writer, stats []*profileStats, markdown bool) error {
	opts := []tablewriter.Option{tablewriter.WithHeaderAutoFormat(tw.Off)}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()),
			tablewriter.WithHeaderAlignment(tw.AlignLeft), tablewriter.WithRowAlignment(tw.AlignLeft))
	}
	t := tablewriter.NewTable(w, opts...)
	t.Header("Profile", "Sync", "Think", "Racy runs failed", "Release spread (median)", "Arrival spread (median)", "First violation (median)", "Basis", "Safe false positives", "Error / unknown runs", "Run wall time (median)")
	for _, ps := range stats {
		n := len(ps.racy)
		det := count(ps.racy, report.Fail)
		var firsts, tooks []time.Duration
		basis := "history"
		for _, r := range ps.racy {
			if r.verdict == report.Fail {
				firsts = append(firsts, r.first)
				if !r.fromHistory {
					basis = "verdict (bound)"
				}
			}
		}
		for _, r := range append(append([]runResult{}, ps.racy...), ps.safe...) {
			if r.took > 0 {
				tooks = append(tooks, r.took)
			}
		}
		if len(firsts) == 0 {
			basis = "—"
		}
		fp := count(ps.safe, report.Fail)
		odd := count(ps.racy, report.Error, report.Unknown, report.Interrupted) + count(ps.safe, report.Error, report.Unknown, report.Interrupted)
		var releases, arrivals []time.Duration
		syncs, think := map[string]bool{}, time.Duration(0)
		for _, r := range append(append([]runResult{}, ps.racy...), ps.safe...) {
			think = r.think
			if r.sync != "" {
				syncs[r.sync] = true
			}
			if r.hasRelease {
				releases = append(releases, r.release)
			}
			if r.arrived {
				arrivals = append(arrivals, r.arrival)
			}
		}
		sync := "— (no bursts)"
		if len(syncs) > 0 {
			sync = strings.Join(slices.Sorted(maps.Keys(syncs)), ", ")
		}
		row := []string{ps.name, sync, think.String(),
			fmt.Sprintf("%d/%d (%s)", det, n, pct(det, n)),
			fmtSpread(median(releases)), fmtSpread(median(arrivals)),
			fmtDur(median(firsts)), basis,
			fmt.Sprintf("%d/%d", fp, len(ps.safe)),
			strconv.Itoa(odd),
			fmtDur(median(tooks)),
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// notes lists the seeds of the runs that went wrong, for replay with -seed.
func notes(w io.Writer, stats []*profileStats) {
	var lines []string
	for _, ps := range stats {
		for _, r := range ps.racy {
			if r.verdict != report.Fail {
				lines = append(lines, fmt.Sprintf("- %s racy: %s, seed %d %s", ps.name, r.verdict, r.seed, r.err))
			}
		}
		for _, r := range ps.safe {
			if r.verdict != report.Pass {
				lines = append(lines, fmt.Sprintf("- %s safe: %s, seed %d %s", ps.name, r.verdict, r.seed, r.err))
			}
		}
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, "\nEvery racy run failed and every safe run passed.")
		return
	}
	fmt.Fprintln(w, "\nRuns that did not go as the mode says (replay: collide run NAME -set target.demo.mode=MODE -seed SEED):")
	for _, l := range lines {
		fmt.Fprintln(w, strings.TrimSpace(l))
	}
}

func pct(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// fmtSpread formats a spread of microseconds to milliseconds.
func fmtSpread(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	default:
		return d.Round(10 * time.Microsecond).String()
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

var errNoHistory = errors.New("no history")

// perInvariant lists, per profile, how many racy runs each invariant
// failed in (a profile's run fails when any one does).
func perInvariant(w io.Writer, stats []*profileStats) {
	fmt.Fprintln(w, "\nRacy runs failed, per invariant:")
	for _, ps := range stats {
		p, err := profiles.Load(ps.name, nil)
		if err != nil {
			continue
		}
		var parts []string
		for _, inv := range p.Invariants {
			n := 0
			for _, r := range ps.racy {
				if slices.Contains(r.failed, inv.Name) {
					n++
				}
			}
			parts = append(parts, fmt.Sprintf("%q %d/%d", inv.Name, n, len(ps.racy)))
		}
		fmt.Fprintf(w, "- %s: %s\n", ps.name, strings.Join(parts, "; "))
	}
}
