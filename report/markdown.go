package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/invariants"
)

// Markdown writes r as GitHub-flavoured Markdown fit for a CI job summary
// ($GITHUB_STEP_SUMMARY) or a pull-request comment: a verdict headline, the
// run's identity and replay command, the invariants with their evidence, the
// attack and the chaos timeline. All text from the run (names, values,
// evidence) is escaped, so a value cannot inject Markdown or HTML.
func Markdown(w io.Writer, r *Result) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "### %s %s · %s\n\n", verdictEmoji(r.Verdict), strings.ToUpper(string(r.Verdict)), mdText(r.Profile.Name))
	fmt.Fprintf(ew, "%s\n\n", mdText(VerdictLine(r)))
	if r.Profile.About != "" {
		fmt.Fprintf(ew, "- profile %s: %s\n", mdCode(profileArg(r)), mdText(r.Profile.About))
	} else {
		fmt.Fprintf(ew, "- profile %s\n", mdCode(profileArg(r)))
	}
	fmt.Fprintf(ew, "- run %s, started %s, took %s, collide %s\n", mdCode(r.RunID),
		r.Started.UTC().Format("2006-01-02 15:04:05Z"), r.Finished.Sub(r.Started).Round(time.Millisecond), mdText(r.Collide))
	fmt.Fprintf(ew, "- target %s, database %s\n", mdText(r.Target), mdText(strings.TrimSpace(r.Database)))
	fmt.Fprintf(ew, "- outcomes: %d ok, %d fail, %d unknown (%.1f%% unknown, limit %.0f%%)\n",
		r.Totals.OK, r.Totals.Fail, r.Totals.Unknown, 100*r.UnknownFraction, 100*r.MaxUnknown)
	fmt.Fprintf(ew, "- replay with the same seed: %s\n\n", mdCode(ReplayCommand(r)))
	if ew.err != nil {
		return ew.err
	}

	if len(r.Invariants) > 0 {
		fmt.Fprint(ew, "#### Invariants\n\n")
		t := newMarkdownTable(ew)
		t.Header("Invariant", "Verdict", "Expected", "Actual / evidence")
		for _, inv := range r.Invariants {
			if err := t.Append([]string{mdText(inv.Name), verdictEmoji(inv.Verdict) + " " + strings.ToUpper(string(inv.Verdict)),
				mdCode(inv.Expected), invariantMarkdown(inv)}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(ew)
	}

	if len(r.Attack) > 0 {
		fmt.Fprint(ew, "#### Attack\n\n")
		t := newMarkdownTable(ew)
		t.Header("Op", "Requests", "Rate/s", "OK/s", "OK", "Fail", "Unknown", "p50", "p99", "Max", "Status codes")
		for _, m := range r.Attack {
			if m == nil {
				continue
			}
			if err := t.Append([]string{mdText(m.Op), fmt.Sprint(m.Requests), fmt.Sprintf("%.1f", m.Rate), fmt.Sprintf("%.1f", m.Through),
				fmt.Sprint(m.OK), fmt.Sprint(m.Fail), fmt.Sprint(m.Unknown),
				dur(m.P50), dur(m.P99), dur(m.Max), mdText(statusCodes(m.StatusCodes))}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(ew)
		if err := markdownBursts(ew, r.Attack); err != nil {
			return err
		}
	}

	fmt.Fprint(ew, "#### Chaos\n\n")
	if len(r.Chaos) == 0 {
		fmt.Fprint(ew, "No faults were injected.\n")
		markdownTraffic(ew, r.ChaosLinks)
		return ew.err
	}
	t := newMarkdownTable(ew)
	t.Header("At", "Link", "Fault", "Action", "Details")
	for _, e := range r.Chaos {
		details := strings.TrimSpace(fmt.Sprintf("%s toxicity=%.2f %s", e.Stream, e.Toxicity, attrs(e.Attributes)))
		if e.Error != "" {
			details = e.Error
		}
		if err := t.Append([]string{"+" + dur(e.Offset), mdText(e.Link), mdText(e.Fault), mdText(e.Action), mdText(details)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	markdownTraffic(ew, r.ChaosLinks)
	return ew.err
}

// markdownTraffic lists what crossed each chaos link, one item per link.
func markdownTraffic(w io.Writer, links []chaos.LinkTraffic) {
	if len(links) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, lt := range links {
		fmt.Fprintf(w, "- %s\n", mdText(trafficLine(lt)))
	}
}

// invariantMarkdown is an invariant's "Actual / evidence" cell.
func invariantMarkdown(inv invariants.Result) string {
	var parts []string
	if inv.Anomaly != "" {
		parts = append(parts, "**"+mdText(inv.Anomaly)+"**")
	}
	if inv.Error != "" {
		parts = append(parts, "error: "+mdCode(inv.Error))
	}
	if inv.Actual != "" {
		parts = append(parts, mdCode(inv.Actual))
	}
	if inv.Explanation != "" {
		parts = append(parts, "why: "+mdText(inv.Explanation))
	}
	for _, o := range inv.Ops {
		parts = append(parts, "op "+mdCode(o.String()))
	}
	if inv.MoreOps > 0 {
		parts = append(parts, fmt.Sprintf("… %d more ops", inv.MoreOps))
	}
	for _, e := range inv.Evidence {
		parts = append(parts, "• "+mdCode(e))
	}
	if inv.Fix != "" {
		parts = append(parts, "fix: "+mdText(inv.Fix))
	}
	return strings.Join(parts, "<br>")
}

// ReplayCommand is the collide command line that runs r's profile again with
// the same seed and overrides.
func ReplayCommand(r *Result) string {
	args := []string{"collide", "run", "-seed", strconv.FormatInt(r.Seed, 10)}
	for _, o := range r.Profile.Overrides {
		args = append(args, "-set", shellQuote(o))
	}
	return strings.Join(append(args, shellQuote(profileArg(r))), " ")
}

// profileArg is how `collide run` names r's profile: the built-in's name or
// the file.
func profileArg(r *Result) string {
	if r.Profile.File == "" || strings.HasPrefix(r.Profile.File, "builtin/") {
		return r.Profile.Name
	}
	return r.Profile.File
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,@%+-[]") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func verdictEmoji(v Verdict) string {
	switch v {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Unknown:
		return "❔"
	case Interrupted:
		return "⏹️"
	default:
		return "⚠️"
	}
}

func statusCodes(m map[string]int) string {
	codes := make([]string, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s×%d", c, m[c])
	}
	return strings.Join(parts, " ")
}

// newMarkdownTable is a GitHub-flavoured Markdown table. Cells must already
// be escaped (mdText, mdCode): tablewriter does not escape pipes.
func newMarkdownTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
}

// mdText escapes s as Markdown text: the characters that start emphasis,
// code, links, HTML or entities, and the table's pipes, are backslash-escaped;
// line breaks become <br>.
func mdText(s string) string {
	var b strings.Builder
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if i > 0 {
			b.WriteString("<br>")
		}
		for _, r := range strings.TrimRight(line, "\r") {
			switch r {
			case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&':
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as inline code, one code span per line joined by <br>,
// with the table's pipes escaped (GitHub applies that escape inside code
// spans too). Empty s gives "".
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, line := range lines {
		line = strings.ReplaceAll(strings.TrimRight(line, "\r"), "|", `\|`)
		fence := "`"
		for strings.Contains(line, fence) {
			fence += "`"
		}
		if strings.HasPrefix(line, "`") || strings.HasSuffix(line, "`") || line == "" {
			line = " " + line + " "
		}
		lines[i] = fence + line + fence
	}
	return strings.Join(lines, "<br>")
}

// errWriter remembers the first write error so a long run of Fprintf calls
// can be checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("report: write: %w", err)
	}
	return n, err
}

// markdownBursts writes the burst table (see burstRow), with each
// operation's sync note beside its mode.
func markdownBursts(w io.Writer, ms []*attacks.Metrics) error {
	ops := burstOps(ms)
	if len(ops) == 0 {
		return nil
	}
	t := newMarkdownTable(w)
	t.Header(burstHeader)
	for _, m := range ops {
		row := burstRow(m, mdText)
		if m.SyncNote != "" {
			row[2] = mdText(m.Sync + " (" + m.SyncNote + ")")
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}
