package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/invariants"
)

// CompareOptions say what counts as a regression from one run to the next.
type CompareOptions struct {
	// Alpha is the significance level of the latency test (Mann–Whitney U
	// over the per-request latencies of an operation in both runs): a shift
	// counts only when p < Alpha, and its confidence interval is at 1 − Alpha.
	Alpha float64 `json:"alpha"`
	// LatencyThreshold is the relative latency shift an operation's
	// confidence interval must lie entirely above for the later run to
	// regress, as a fraction: 0.1 means "surely more than 10% slower".
	LatencyThreshold float64 `json:"latency_threshold"`
	// LatencyFastest is the fraction of each run's fastest requests the
	// test compares (0.1: the fastest 10% of each run; 1: all of them).
	// A loaded machine only ever adds delay, and adds it to some requests
	// and not others, while a slower service is slower on every request:
	// the fastest requests show the service's own time. A regression only
	// of the slowest requests is not called (the p99 row shows it).
	LatencyFastest float64 `json:"latency_fastest"`
	// LatencyFloor is the smallest rise of the median latency that can count
	// as a regression (0: none). In nanoseconds in JSON.
	LatencyFloor time.Duration `json:"latency_floor_ns"`
	// MaxLatencySamples is how many latencies per operation and run the test
	// uses; a run with more is sampled (seeded, uniform). ≤ 0 means
	// DefaultMaxLatencySamples.
	MaxLatencySamples int `json:"max_latency_samples"`
	// UnknownThreshold is the increase of the unknown share (unknown ops / all
	// ops) above which the later run regresses, as a fraction of all ops:
	// 0.05 means "more than 5 percentage points".
	UnknownThreshold float64 `json:"unknown_threshold"`
	// Force compares runs of different profiles (name or hash) as if they
	// were the same; without it such a comparison has ProfilesDiffer set
	// and calls no latency or unknown-share regression.
	Force bool `json:"force,omitempty"`
}

// DefaultCompareOptions are collide compare's defaults: an operation's
// fastest 10% of latencies significantly shifted (p < 0.05) by surely more
// than 15%, or the
// unknown share up by more than 5 points.
func DefaultCompareOptions() CompareOptions {
	return CompareOptions{Alpha: 0.05, LatencyThreshold: 0.15, LatencyFastest: 0.10, MaxLatencySamples: DefaultMaxLatencySamples, UnknownThreshold: 0.05}
}

// Column is one run of a comparison. A nil Result is a run that is missing,
// e.g. a profile that did not run on one night.
type Column struct {
	// Label heads the column: the argument the run came from, or a run folder.
	Label string
	// Dir is the run folder, if known.
	Dir    string
	Result *Result
}

// RunSet is the runs that one command-line argument named: one run for a run
// folder, every run below it for a folder of run folders (a night's runs).
type RunSet struct {
	Label string
	Runs  []Run
}

// Row kinds of a Comparison.
const (
	RowRun        = "run"        // identification: run id, start time, seed
	RowVerdict    = "verdict"    // the run's overall verdict
	RowInvariant  = "invariant"  // one invariant's verdict, matched by name
	RowOutcome    = "outcome"    // ok / fail / unknown counts and the unknown share
	RowThroughput = "throughput" // ok responses per second of one operation
	RowLatency    = "latency"    // p50 or p99 latency of one operation, or its shift
)

// Comparison is a side-by-side view of runs, oldest first, each later run
// compared with the previous run that is present.
type Comparison struct {
	// Profile is the profile the runs share, or "" when they differ.
	Profile string       `json:"profile,omitempty"`
	Runs    []ColumnInfo `json:"runs"`
	Rows    []Row        `json:"rows"`
	// Regressions lists every regressed cell, by run (oldest first), then
	// in row order.
	Regressions []Regression `json:"regressions"`
	// Notes are remarks that are not regressions, e.g. a missing run.
	Notes []string `json:"notes,omitempty"`
	// Differences say how a run's setup differs from the run before it:
	// profile name or hash, overrides, seed, collide version, target.
	Differences []string `json:"differences,omitempty"`
	// ProfilesDiffer is set when two compared runs ran different profiles
	// (name or hash: the hash covers the overrides). Without
	// CompareOptions.Force, collide compare refuses to call a regression.
	ProfilesDiffer bool           `json:"profiles_differ,omitempty"`
	Options        CompareOptions `json:"options"`
}

// ColumnInfo identifies the run of one column.
type ColumnInfo struct {
	Label   string     `json:"label"`
	Dir     string     `json:"dir,omitempty"`
	RunID   string     `json:"run_id,omitempty"`
	Profile string     `json:"profile,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	Verdict Verdict    `json:"verdict,omitempty"`
	// Missing is set when the column has no run.
	Missing bool `json:"missing,omitempty"`
}

// Row is one line of a comparison: one cell per run.
type Row struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Unit is the unit of the cells' Value: "ns", "ops", "ops/s" or
	// "fraction"; empty for rows without values (verdicts).
	Unit  string `json:"unit,omitempty"`
	Cells []Cell `json:"cells"`
}

// Cell is one run's entry in a row.
type Cell struct {
	// Text is the cell as shown, e.g. "812ms (+35%)".
	Text string `json:"text"`
	// Value is the number behind Text, in the row's Unit.
	Value *float64 `json:"value,omitempty"`
	// Change is the change against the previous run: relative (0.35 = +35%)
	// for every unit but "fraction", where it is the difference of the two
	// fractions (0.02 = +2 percentage points). Absent for the first run and
	// when the previous value is 0 in a relative row.
	Change *float64 `json:"change,omitempty"`
	// Regression says why this cell is a regression; empty when it is not.
	Regression string `json:"regression,omitempty"`
	// Missing is set when the run or this row's subject is absent from it.
	Missing bool `json:"missing,omitempty"`
	// Shift is the latency test against the previous run, in a "latency"
	// row of unit "shift" (Value is then Shift.Delta).
	Shift *LatencyShift `json:"shift,omitempty"`
}

// Regression is one thing that got worse from one run to the next.
type Regression struct {
	// Run is the index in Runs of the run that regressed.
	Run   int    `json:"run"`
	Label string `json:"label"`
	Row   string `json:"row"`
	From  string `json:"from"`
	To    string `json:"to"`
	// Why says it in one line, e.g. `latency incr +31% [+27%, +35%] p=0.000
	// n=300+300 (threshold +10%)`.
	Why string `json:"why"`
	// kind is the row kind the regression is in.
	kind string
}

// Regressed reports whether any run regressed.
func (c *Comparison) Regressed() bool { return len(c.Regressions) > 0 }

// Compare lines up cols, oldest first, and marks regressions: a verdict or an
// invariant that passed and now does not (fail, error, unknown, interrupted),
// an operation's latencies significantly slower by surely more than
// o.LatencyThreshold (see shiftRow), an unknown share up by more than
// o.UnknownThreshold. Latencies are read from each column's history file.
// When two runs ran different profiles, ProfilesDiffer is set and, unless
// o.Force, only the verdict and invariant regressions are kept.
func Compare(cols []Column, o CompareOptions) *Comparison {
	c := &Comparison{Options: o, Regressions: []Regression{}}
	profile := ""
	for _, col := range cols {
		info := ColumnInfo{Label: col.Label, Dir: col.Dir, Missing: col.Result == nil}
		if r := col.Result; r != nil {
			started := r.Started.UTC()
			info.RunID, info.Profile, info.Started, info.Verdict = r.RunID, r.Profile.Name, &started, r.Verdict
			if profile == "" {
				profile = r.Profile.Name
			} else if profile != r.Profile.Name {
				profile = "\x00" // differ
			}
		} else {
			c.Notes = append(c.Notes, fmt.Sprintf("%s: no run", col.Label))
		}
		c.Runs = append(c.Runs, info)
	}
	if profile != "\x00" {
		c.Profile = profile
	}
	var last *Result
	for _, col := range cols {
		if col.Result == nil {
			continue
		}
		if last != nil && col.Result.Started.Before(last.Started) {
			c.Notes = append(c.Notes, fmt.Sprintf("%s started before the run to its left: runs are compared in the order given, not by time", col.Label))
		}
		last = col.Result
	}
	b := &cmpBuilder{c: c, cols: cols, o: o, lat: make([]map[string]*OpLatencies, len(cols)), latErr: make([]error, len(cols))}
	b.differences()

	if c.Profile == "" {
		b.textRow(RowRun, "profile", func(r *Result) string { return r.Profile.Name })
	}
	b.textRow(RowRun, "run", func(r *Result) string { return r.RunID })
	b.textRow(RowRun, "started", func(r *Result) string { return r.Started.UTC().Format("2006-01-02 15:04:05Z") })
	b.textRow(RowRun, "seed", func(r *Result) string { return strconv.FormatInt(r.Seed, 10) })

	b.verdictRow(RowVerdict, "verdict", func(r *Result) (string, string, bool) {
		detail := VerdictLineDetail(r)
		if r.Verdict == Fail {
			detail = "" // the invariant rows say what was violated
		}
		return string(r.Verdict), detail, true
	})
	for _, name := range invariantNames(cols) {
		b.verdictRow(RowInvariant, name, func(r *Result) (string, string, bool) {
			for _, inv := range r.Invariants {
				if inv.Name == name {
					return string(inv.Verdict), invariantDetail(inv), true
				}
			}
			return "", "", false
		})
	}

	b.numRow(RowOutcome, "requests", "ops", func(r *Result) (float64, bool) { return float64(r.Totals.Total()), true }, fmtCount, nil)
	b.numRow(RowOutcome, "ok", "ops", func(r *Result) (float64, bool) { return float64(r.Totals.OK), true }, fmtCount, nil)
	b.numRow(RowOutcome, "fail", "ops", func(r *Result) (float64, bool) { return float64(r.Totals.Fail), true }, fmtCount, nil)
	b.numRow(RowOutcome, "unknown", "ops", func(r *Result) (float64, bool) { return float64(r.Totals.Unknown), true }, fmtCount, nil)
	b.numRow(RowOutcome, "unknown share", "fraction", func(r *Result) (float64, bool) { return unknownShare(r), true }, fmtShare,
		func(prev, cur float64) string {
			if cur-prev > o.UnknownThreshold+1e-12 {
				return fmt.Sprintf("unknown share %s → %s (%s, threshold +%.1f pp)", fmtShare(prev), fmtShare(cur), fmtPoints(cur-prev), 100*o.UnknownThreshold)
			}
			return ""
		})

	for _, op := range opNames(cols) {
		metric := func(get func(m *attacks.Metrics) float64) func(r *Result) (float64, bool) {
			return func(r *Result) (float64, bool) {
				for _, m := range r.Attack {
					if m != nil && m.Op == op {
						return get(m), true
					}
				}
				return 0, false
			}
		}
		b.numRow(RowThroughput, "throughput "+op, "ops/s", metric(func(m *attacks.Metrics) float64 { return m.Through }), fmtRate, nil)
		b.numRow(RowLatency, "p50 "+op, "ns", metric(func(m *attacks.Metrics) float64 { return float64(m.P50) }), fmtNanos, nil)
		b.numRow(RowLatency, "p99 "+op, "ns", metric(func(m *attacks.Metrics) float64 { return float64(m.P99) }), fmtNanos, nil)
		b.shiftRow(op)
	}
	if c.ProfilesDiffer && !o.Force {
		// Not the same experiment: only what is always a regression stays
		// (a verdict or invariant PASS → not PASS); collide compare refuses.
		kept := c.Regressions[:0]
		for _, r := range c.Regressions {
			if r.kind == RowVerdict || r.kind == RowInvariant {
				kept = append(kept, r)
			}
		}
		c.Regressions = kept
		for i := range c.Rows {
			if c.Rows[i].Kind == RowLatency || c.Rows[i].Kind == RowOutcome {
				for j := range c.Rows[i].Cells {
					c.Rows[i].Cells[j].Regression = ""
				}
			}
		}
	}
	sort.SliceStable(c.Regressions, func(i, j int) bool { return c.Regressions[i].Run < c.Regressions[j].Run })
	return c
}

// CompareSets compares sets of runs, oldest set first. When every set holds
// exactly one run, the runs are compared side by side whatever their
// profiles. Otherwise runs are matched by profile name: one Comparison per
// profile (in order of first appearance), one column per set, taking the
// set's latest run of that profile; a set without it has a missing column.
func CompareSets(sets []RunSet, o CompareOptions) []*Comparison {
	single := true
	for _, s := range sets {
		if len(s.Runs) != 1 {
			single = false
		}
	}
	if single {
		cols := make([]Column, len(sets))
		for i, s := range sets {
			cols[i] = Column{Label: s.Label, Dir: s.Runs[0].Dir, Result: s.Runs[0].Result}
		}
		return []*Comparison{Compare(cols, o)}
	}
	var order []string
	seen := map[string]bool{}
	for _, s := range sets {
		for _, r := range s.Runs {
			if n := r.Result.Profile.Name; !seen[n] {
				seen[n] = true
				order = append(order, n)
			}
		}
	}
	var out []*Comparison
	for _, name := range order {
		cols := make([]Column, len(sets))
		for i, s := range sets {
			cols[i].Label = s.Label
			for _, r := range s.Runs { // oldest first: the last match is the latest
				if r.Result.Profile.Name == name {
					cols[i].Dir, cols[i].Result = r.Dir, r.Result
				}
			}
		}
		out = append(out, Compare(cols, o))
	}
	return out
}

type cmpBuilder struct {
	c    *Comparison
	cols []Column
	o    CompareOptions
	// lat holds each column's latencies once read; latErr why they could
	// not be.
	lat    []map[string]*OpLatencies
	latErr []error
}

// prevIndex is the nearest column before i that has a result, or -1.
func (b *cmpBuilder) prevIndex(i int) int {
	for j := i - 1; j >= 0; j-- {
		if b.cols[j].Result != nil {
			return j
		}
	}
	return -1
}

func (b *cmpBuilder) add(row Row) { b.c.Rows = append(b.c.Rows, row) }

func (b *cmpBuilder) textRow(kind, name string, get func(*Result) string) {
	row := Row{Kind: kind, Name: name}
	for _, col := range b.cols {
		if col.Result == nil {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		row.Cells = append(row.Cells, Cell{Text: get(col.Result)})
	}
	b.add(row)
}

// verdictRow adds a row of verdicts; get returns the verdict, a detail shown
// after it when it is not pass, and false when the subject is absent.
func (b *cmpBuilder) verdictRow(kind, name string, get func(*Result) (verdict, detail string, ok bool)) {
	row := Row{Kind: kind, Name: name}
	verdicts := make([]string, len(b.cols))
	present := make([]bool, len(b.cols))
	for i, col := range b.cols {
		if col.Result == nil {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		v, detail, ok := get(col.Result)
		if !ok {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		verdicts[i], present[i] = v, true
		cell := Cell{Text: strings.ToUpper(v)}
		if v != string(Pass) && detail != "" {
			cell.Text += ": " + detail
		}
		if p := b.prevIndex(i); p >= 0 && present[p] && verdicts[p] == string(Pass) && v != string(Pass) {
			subject := "verdict"
			if kind == RowInvariant {
				subject = fmt.Sprintf("invariant %q", name)
			}
			cell.Regression = fmt.Sprintf("%s PASS → %s", subject, strings.ToUpper(v))
			b.regress(i, kind, name, "PASS", strings.ToUpper(v), cell.Regression)
		}
		row.Cells = append(row.Cells, cell)
	}
	b.add(row)
}

// numRow adds a row of numbers with the change against the previous run;
// regressed, if not nil, returns why cur regressed from prev, or "".
func (b *cmpBuilder) numRow(kind, name, unit string, get func(*Result) (float64, bool), format func(float64) string, regressed func(prev, cur float64) string) {
	row := Row{Kind: kind, Name: name, Unit: unit}
	vals := make([]float64, len(b.cols))
	present := make([]bool, len(b.cols))
	shown := false
	for i, col := range b.cols {
		if col.Result == nil {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		v, ok := get(col.Result)
		if !ok {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		shown = true
		vals[i], present[i] = v, true
		val := v
		cell := Cell{Text: format(v), Value: &val}
		if p := b.prevIndex(i); p >= 0 && present[p] {
			prev := vals[p]
			if unit == "fraction" {
				d := v - prev
				cell.Change = &d
				cell.Text += " (" + fmtPoints(d) + ")"
			} else if prev != 0 {
				d := v/prev - 1
				cell.Change = &d
				cell.Text += " (" + fmtPercent(d) + ")"
			} else if v != 0 {
				cell.Text += " (from 0)"
			} else {
				cell.Text += " (±0%)"
			}
			if regressed != nil {
				if why := regressed(prev, v); why != "" {
					cell.Regression = why
					b.regress(i, kind, name, format(prev), format(v), why)
				}
			}
		}
		row.Cells = append(row.Cells, cell)
	}
	if shown {
		b.add(row)
	}
}

func (b *cmpBuilder) regress(i int, kind, row, from, to, why string) {
	b.c.Regressions = append(b.c.Regressions, Regression{Run: i, Label: b.cols[i].Label, Row: row, From: from, To: to, Why: why, kind: kind})
}

// invariantNames is the union of invariant names, in order of first appearance.
func invariantNames(cols []Column) []string {
	var names []string
	seen := map[string]bool{}
	for _, col := range cols {
		if col.Result == nil {
			continue
		}
		for _, inv := range col.Result.Invariants {
			if !seen[inv.Name] {
				seen[inv.Name] = true
				names = append(names, inv.Name)
			}
		}
	}
	return names
}

// opNames is the union of operation names, in order of first appearance.
func opNames(cols []Column) []string {
	var names []string
	seen := map[string]bool{}
	for _, col := range cols {
		if col.Result == nil {
			continue
		}
		for _, m := range col.Result.Attack {
			if m != nil && !seen[m.Op] {
				seen[m.Op] = true
				names = append(names, m.Op)
			}
		}
	}
	return names
}

// invariantDetail is what an invariant found, in one line: anomaly, actual,
// or the error that kept it from running.
func invariantDetail(inv invariants.Result) string {
	s := inv.Actual
	if inv.Error != "" {
		s = inv.Error
	}
	if inv.Anomaly != "" {
		if s == "" {
			return inv.Anomaly
		}
		s = inv.Anomaly + ": " + s
	}
	return s
}

// VerdictLineDetail is the reason after the verdict in VerdictLine, without
// the verdict itself; "" for pass.
func VerdictLineDetail(r *Result) string {
	line := VerdictLine(r)
	if i := strings.Index(line, "): "); i >= 0 {
		return line[i+3:]
	}
	return ""
}

func unknownShare(r *Result) float64 {
	if t := r.Totals.Total(); t > 0 {
		return float64(r.Totals.Unknown) / float64(t)
	}
	return r.UnknownFraction
}

func fmtCount(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
func fmtRate(v float64) string  { return strconv.FormatFloat(v, 'f', 1, 64) + "/s" }
func fmtNanos(v float64) string { return dur(time.Duration(math.Round(v))) }
func fmtShare(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

// fmtPercent renders a relative change: +35%, -4%, ±0% when it rounds to 0.
func fmtPercent(d float64) string {
	p := math.Round(100 * d)
	if p == 0 {
		return "±0%"
	}
	return fmt.Sprintf("%+.0f%%", p)
}

// fmtPoints renders a difference of fractions in percentage points.
func fmtPoints(d float64) string {
	s := fmt.Sprintf("%+.1f pp", 100*d)
	if s == "+0.0 pp" || s == "-0.0 pp" {
		return "±0 pp"
	}
	return s
}

// latencies returns column i's per-operation latencies, read from its
// history file on first use; nil with a note when there are none.
func (b *cmpBuilder) latencies(i int) map[string]*OpLatencies {
	if b.lat[i] != nil || b.latErr[i] != nil {
		return b.lat[i]
	}
	col := b.cols[i]
	path := Run{Dir: col.Dir, Result: col.Result}.HistoryPath()
	if col.Dir == "" || path == "" {
		b.latErr[i] = fmt.Errorf("no history file")
	} else if b.lat[i], b.latErr[i] = LoadLatencies(path, b.maxSamples()); b.latErr[i] != nil {
		b.lat[i] = nil
	}
	if b.latErr[i] != nil {
		b.c.Notes = append(b.c.Notes, fmt.Sprintf("%s: no per-request latencies (%v): its latency is not tested", col.Label, b.latErr[i]))
	}
	return b.lat[i]
}

func (b *cmpBuilder) fastest() float64 {
	if f := b.o.LatencyFastest; f > 0 && f < 1 {
		return f
	}
	return 1
}

// fastest returns the fastest fraction f of latencies v (at least 2 when v
// has them), sorted; v is sorted in place.
func fastest(v []float64, f float64) []float64 {
	sort.Float64s(v)
	n := min(max(int(math.Ceil(f*float64(len(v)))), 2), len(v))
	return v[:n]
}

func (b *cmpBuilder) maxSamples() int {
	if b.o.MaxLatencySamples > 0 {
		return b.o.MaxLatencySamples
	}
	return DefaultMaxLatencySamples
}

// shiftRow adds the row "latency OP": each run's per-request latencies of
// op against the previous run's, by the U test, with the shift and its
// confidence interval, or "~" when the test finds no significant
// difference. A regression is a significant shift whose whole interval lies
// above LatencyThreshold and whose median rose by at least LatencyFloor.
func (b *cmpBuilder) shiftRow(op string) {
	row := Row{Kind: RowLatency, Name: "latency " + op, Unit: "shift"}
	if f := b.fastest(); f < 1 {
		row.Name += fmt.Sprintf(" (fastest %s)", strings.TrimPrefix(fmtPercent(f), "+"))
	}
	shown := false
	for i, col := range b.cols {
		p := b.prevIndex(i)
		if col.Result == nil || p < 0 {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: col.Result == nil})
			continue
		}
		prev, cur := b.latencies(p), b.latencies(i)
		if prev == nil || cur == nil || prev[op] == nil || cur[op] == nil {
			row.Cells = append(row.Cells, Cell{Text: "—", Missing: true})
			continue
		}
		s, err := CompareLatencies(fastest(prev[op].Nanos, b.fastest()), fastest(cur[op].Nanos, b.fastest()), b.o.Alpha)
		if err != nil {
			row.Cells = append(row.Cells, Cell{Text: "? (" + err.Error() + ")"})
			shown = true
			continue
		}
		s.Sampled = prev[op].Sampled() || cur[op].Sampled()
		delta := s.Delta
		cell := Cell{Text: s.String(), Value: &delta, Shift: &s}
		if s.Significant() && s.Lo > b.o.LatencyThreshold && time.Duration(s.Median2-s.Median1) >= b.o.LatencyFloor {
			cell.Regression = fmt.Sprintf("latency %s %s (threshold %s)", op, s.String(), fmtPercent(b.o.LatencyThreshold))
			b.regress(i, RowLatency, row.Name, fmtNanos(s.Median1), fmtNanos(s.Median2), cell.Regression)
		}
		row.Cells = append(row.Cells, cell)
		shown = true
	}
	if shown {
		b.add(row)
	}
}

// differences records how each run's setup differs from the run before it,
// and whether two runs ran different profiles.
func (b *cmpBuilder) differences() {
	for i, col := range b.cols {
		p := b.prevIndex(i)
		if col.Result == nil || p < 0 {
			continue
		}
		a, r := b.cols[p].Result, col.Result
		var d []string
		diff := func(what, x, y string) {
			if x != y {
				d = append(d, fmt.Sprintf("%s %s → %s", what, orNone(x), orNone(y)))
			}
		}
		diff("profile", a.Profile.Name, r.Profile.Name)
		if a.Profile.Hash != r.Profile.Hash {
			x, y := shortHash(a.Profile.Hash), shortHash(r.Profile.Hash)
			if x == y {
				x, y = a.Profile.Hash, r.Profile.Hash
			}
			diff("profile hash", x, y)
		}
		diff("overrides", strings.Join(a.Profile.Overrides, " "), strings.Join(r.Profile.Overrides, " "))
		diff("seed", strconv.FormatInt(a.Seed, 10), strconv.FormatInt(r.Seed, 10))
		diff("collide", a.Collide, r.Collide)
		diff("target", a.Target, r.Target)
		if len(d) > 0 {
			b.c.Differences = append(b.c.Differences, fmt.Sprintf("%s vs %s: %s", b.cols[p].Label, col.Label, strings.Join(d, "; ")))
		}
		if a.Profile.Name != r.Profile.Name || a.Profile.Hash != r.Profile.Hash {
			b.c.ProfilesDiffer = true
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
