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
	"github.com/collide-dev/collide/invariants"
)

// Table writes r as terminal tables: a verdict line, one row per invariant
// (verdict, expected, actual and evidence), the attack summary per operation
// and the chaos timeline.
func Table(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "collide %s: profile %s, seed %d, run %s, %s\n",
		r.Collide, r.Profile.Name, r.Seed, r.RunID, r.Finished.Sub(r.Started).Round(time.Millisecond))
	fmt.Fprintf(w, "target %s, database %s\n\n", r.Target, r.Database)

	if len(r.Invariants) > 0 {
		t := newTable(w, 60)
		t.Header("Invariant", "Verdict", "Expected", "Actual / evidence")
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
			if err := t.Append([]string{inv.Name, strings.ToUpper(string(inv.Verdict)), inv.Expected, actual}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	if len(r.Attack) > 0 {
		t := newTable(w, 40)
		t.Header("Op", "Requests", "Rate/s", "OK", "Fail", "Unknown", "p50", "p99", "Max")
		for _, m := range r.Attack {
			if m == nil {
				continue
			}
			if err := t.Append([]string{m.Op, fmt.Sprint(m.Requests), fmt.Sprintf("%.1f", m.Rate),
				fmt.Sprint(m.OK), fmt.Sprint(m.Fail), fmt.Sprint(m.Unknown),
				dur(m.P50), dur(m.P99), dur(m.Max)}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	if err := burstTable(w, r.Attack); err != nil {
		return err
	}

	if len(r.Chaos) > 0 {
		t := newTable(w, 50)
		t.Header("At", "Link", "Fault", "Action", "Details")
		for _, e := range r.Chaos {
			details := fmt.Sprintf("%s toxicity=%.2f %s", e.Stream, e.Toxicity, attrs(e.Attributes))
			if e.Error != "" {
				details = e.Error
			}
			if err := t.Append([]string{"+" + dur(e.Offset), e.Link, e.Fault, e.Action, strings.TrimSpace(details)}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, VerdictLine(r))
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

// burstTable writes the burst table and each operation's sync note.
func burstTable(w io.Writer, ms []*attacks.Metrics) error {
	ops := burstOps(ms)
	if len(ops) == 0 {
		return nil
	}
	t := newTable(w, 40)
	t.Header(burstHeader)
	for _, m := range ops {
		if err := t.Append(burstRow(m, func(s string) string { return s })); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, m := range ops {
		if m.SyncNote != "" {
			fmt.Fprintf(w, "%s: %s\n", m.Op, m.SyncNote)
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
			if inv.Verdict == "fail" {
				names = append(names, fmt.Sprintf("%q violated (%s)", inv.Name, inv.Actual))
			}
		}
		s += ": " + strings.Join(names, "; ")
		// A proven violation decides the exit code (fail beats error), but a
		// checker that could not run is said here too, never hidden behind it.
		var broken []string
		for _, inv := range r.Invariants {
			if inv.Verdict == "error" {
				broken = append(broken, fmt.Sprintf("%q", inv.Name))
			}
		}
		if len(broken) > 0 {
			s += "; and could not check " + strings.Join(broken, ", ")
		}
	case Unknown:
		s += fmt.Sprintf(": no invariant violated, but %.0f%% of operations had unknown outcomes (limit %.0f%%)",
			100*r.UnknownFraction, 100*r.MaxUnknown)
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
