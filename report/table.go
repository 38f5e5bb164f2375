package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/invariants"
)

// Table writes r as terminal tables in the wide layout (TableWidth with
// width 0).
func Table(w io.Writer, r *Result) error { return TableWidth(w, r, 0) }

// TableWidth writes r as terminal tables: a verdict line, one row per
// invariant (verdict, expected, actual and evidence), the attack summary per
// operation and the chaos timeline, every line fitted to width characters
// (0: no limit, every column; see fitTable). Narrow, the invariant table
// keeps the invariant, its verdict and the evidence, and drops Expected
// first; the attack table keeps the operation, the outcome counts and p99.
func TableWidth(w io.Writer, r *Result, width int) error {
	fitLine(w, width, fmt.Sprintf("collide %s: profile %s, seed %d, run %s, %s",
		r.Collide, r.Profile.Name, r.Seed, r.RunID, r.Finished.Sub(r.Started).Round(time.Millisecond)))
	fitLine(w, width, fmt.Sprintf("target %s, database %s", r.Target, r.Database))
	fmt.Fprintln(w)

	if len(r.Invariants) > 0 {
		var rows [][]string
		for _, inv := range r.Invariants {
			actual := inv.Actual
			if inv.Error != "" {
				actual = "error: " + inv.Error
			}
			if inv.Anomaly != "" {
				actual = inv.Anomaly + ": " + actual
			}
			if inv.Explanation != "" {
				actual += "\nwhy: " + inv.Explanation
			}
			if ops := opLines(inv, tableOps); len(ops) > 0 {
				actual += "\nops:\n" + strings.Join(ops, "\n")
			}
			if len(inv.Evidence) > 0 {
				actual += "\n" + strings.Join(inv.Evidence, "\n")
			}
			if inv.Fix != "" && inv.Verdict == invariants.Fail {
				actual += "\nfix: " + inv.Fix
			}
			rows = append(rows, []string{inv.Name, strings.ToUpper(string(inv.Verdict)), inv.Expected, actual})
		}
		cols := []column{{"Invariant", true, 60}, {"Verdict", true, 60}, {"Expected", false, 60}, {"Actual / evidence", true, 60}}
		if width > 0 {
			// Narrow, the verdict comes first: it is what a person reads.
			cols = []column{cols[1], cols[0], cols[3], cols[2]}
			for i := range rows {
				rows[i] = []string{rows[i][1], rows[i][0], rows[i][3], rows[i][2]}
			}
		}
		if err := fitTable(w, width, cols, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	if len(r.Attack) > 0 {
		var rows [][]string
		for _, m := range r.Attack {
			if m == nil {
				continue
			}
			rows = append(rows, []string{m.Op, fmt.Sprint(m.Requests), fmt.Sprintf("%.1f", m.Rate),
				fmt.Sprint(m.OK), fmt.Sprint(m.Fail), fmt.Sprint(m.Unknown),
				dur(m.P50), dur(m.P99), dur(m.Max)})
		}
		cols := []column{{"Op", true, 40}, {"Requests", true, 40}, {"Rate/s", false, 40}, {"OK", true, 40},
			{"Fail", true, 40}, {"Unknown", true, 40}, {"p50", false, 40}, {"p99", true, 40}, {"Max", false, 40}}
		if err := fitTable(w, width, cols, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	if err := burstTable(w, r.Attack, width); err != nil {
		return err
	}

	if len(r.Chaos) > 0 {
		var rows [][]string
		for _, e := range r.Chaos {
			details := fmt.Sprintf("%s toxicity=%.2f %s", e.Stream, e.Toxicity, attrs(e.Attributes))
			if e.Error != "" {
				details = e.Error
			}
			rows = append(rows, []string{"+" + dur(e.Offset), e.Link, e.Fault, e.Action, strings.TrimSpace(details)})
		}
		cols := []column{{"At", true, 50}, {"Link", true, 50}, {"Fault", true, 50}, {"Action", true, 50}, {"Details", false, 50}}
		if err := fitTable(w, width, cols, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(r.ChaosLinks) > 0 {
		for _, lt := range r.ChaosLinks {
			fitLine(w, width, trafficLine(lt))
		}
		fmt.Fprintln(w)
	}

	fitLine(w, width, VerdictLine(r))
	return nil
}

// burstHeader and burstRow are the burst table of the terminal and the
// Markdown report: for each operation that sent bursts, how tightly their
// copies were released (first to last release write) and, when the service
// reported it, how tightly they reached its handlers.
var burstHeader = []string{"Bursts of", "Bursts", "Sync", "Release p50", "Release max", "First burst", "Arrival p50", "Arrival max"}

func burstRow(m *attacks.Metrics, text func(string) string) []string {
	arrP50, arrMax := "-", "-"
	if m.ArrivalBursts > 0 {
		arrP50, arrMax = dur(m.ArrivalSpreadP50), dur(m.ArrivalSpreadMax)
	}
	return []string{text(m.Op), fmt.Sprint(m.Bursts), text(m.Sync),
		dur(m.ReleaseSpreadP50), dur(m.ReleaseSpreadMax), dur(m.ReleaseSpreadFirst), arrP50, arrMax}
}

// burstOps lists the operations that sent bursts.
func burstOps(ms []*attacks.Metrics) []*attacks.Metrics {
	var out []*attacks.Metrics
	for _, m := range ms {
		if m != nil && m.Bursts > 0 {
			out = append(out, m)
		}
	}
	return out
}

// burstTable writes the burst table and each operation's sync note, fitted
// to width characters (0: no limit).
func burstTable(w io.Writer, ms []*attacks.Metrics, width int) error {
	ops := burstOps(ms)
	if len(ops) == 0 {
		return nil
	}
	keep := map[string]bool{"Bursts of": true, "Bursts": true, "Release max": true, "Arrival max": true}
	cols := make([]column, len(burstHeader))
	for i, h := range burstHeader {
		cols[i] = column{h, keep[h], 40}
	}
	var rows [][]string
	for _, m := range ops {
		rows = append(rows, burstRow(m, func(s string) string { return s }))
	}
	if err := fitTable(w, width, cols, rows); err != nil {
		return err
	}
	for _, m := range ops {
		if m.SyncNote != "" {
			fitLine(w, width, fmt.Sprintf("%s: %s", m.Op, m.SyncNote))
		}
	}
	fmt.Fprintln(w)
	return nil
}

// tableOps is how many ops of a counterexample the terminal table lists;
// the other formats list all of Result.Ops.
const tableOps = 4

// opLines are the first max ops of a counterexample, one line each, then
// how many more there are: "#212 incr ok 200
// 03:00:01.100000→03:00:01.103000 (acknowledged)".
func opLines(inv invariants.Result, max int) []string {
	lines := make([]string, 0, min(len(inv.Ops), max)+1)
	for i, o := range inv.Ops {
		if i == max {
			break
		}
		lines = append(lines, o.String())
	}
	if more := inv.MoreOps + len(inv.Ops) - len(lines); more > 0 {
		lines = append(lines, fmt.Sprintf("… %d more", more))
	}
	return lines
}

// VerdictLine is one line saying the verdict and, when it is not pass, why.
func VerdictLine(r *Result) string {
	s := fmt.Sprintf("verdict: %s (exit %d)", strings.ToUpper(string(r.Verdict)), r.ExitCode)
	switch r.Verdict {
	case Fail:
		var names []string
		for _, inv := range r.Invariants {
			if inv.Verdict == Fail {
				names = append(names, fmt.Sprintf("%q violated (%s)", inv.Name, inv.Actual))
			}
		}
		s += ": " + strings.Join(names, "; ")
		// A proven violation decides the exit code (fail beats error), but a
		// checker that could not run is said here too, never hidden behind it.
		var broken []string
		for _, inv := range r.Invariants {
			if inv.Verdict == Error {
				broken = append(broken, fmt.Sprintf("%q", inv.Name))
			}
		}
		if len(broken) > 0 {
			s += "; and could not check " + strings.Join(broken, ", ")
		}
	case Unknown:
		if m := r.Merge; m != nil && m.Partial {
			s += fmt.Sprintf(": no invariant violated, but a partial merge: %d of %d shards (a pass needs them all)", len(m.Shards), m.Count)
			break
		}
		s += fmt.Sprintf(": no invariant violated, but %.0f%% of operations had unknown outcomes (limit %.0f%%)",
			100*r.UnknownFraction, 100*r.MaxUnknown)
	case "partial":
		s += ": one shard of a sharded run, not checked; collide merge checks the shards together"
	case Error, Interrupted:
		if r.Error != "" {
			s += ": " + r.Error
		}
	}
	return s
}

func newTable(w io.Writer, colMax int) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRowMaxWidth(colMax),
		tablewriter.WithHeaderMaxWidth(colMax),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithTrimSpace(tw.Off),
	)
}

func dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

// attrUnit is the unit of each toxiproxy attribute, as toxiproxy takes it.
var attrUnit = map[string]string{"latency": "ms", "jitter": "ms", "timeout": "ms", "delay": "ms", "rate": "KB/s", "bytes": "B"}

func attrs(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v%s", k, m[k], attrUnit[k])
	}
	return strings.Join(parts, " ")
}

// trafficLine describes what crossed one chaos link, e.g. "link target
// 127.0.0.1:40001 → 127.0.0.1:8080: 297 bytes up, 150414 bytes down,
// 3 connections", or why that was not measured.
func trafficLine(lt chaos.LinkTraffic) string {
	head := fmt.Sprintf("link %s %s → %s: ", lt.Link, lt.Listen, lt.Upstream)
	if !lt.Measured() || lt.BytesUp == nil || lt.BytesDown == nil || lt.Connections == nil {
		return head + "traffic not measured: " + lt.Unmeasured
	}
	return head + fmt.Sprintf("%d bytes up, %d bytes down, %s", *lt.BytesUp, *lt.BytesDown, plural(int(*lt.Connections), "connection"))
}
