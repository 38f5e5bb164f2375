package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/collide-dev/collide/invariants"
)

// AuditMarkdown writes a as the Concurrency & Race Condition Audit Report of
// shared/seeds/000, in GitHub-flavoured Markdown: the template's headings
// (system, date, auditor), its two tables (concurrent access points; test
// results by id with their evidence) and its score, then the rule behind the
// score, the findings (every violated invariant with its evidence and fix)
// and the runs (folder, verdict, replay command). All text from the runs is
// escaped.
func AuditMarkdown(w io.Writer, a *AuditReport) error {
	ew := &errWriter{w: w}
	fmt.Fprint(ew, "# Concurrency & Race Condition Audit Report\n\n")
	fmt.Fprintf(ew, "## System: %s\n## Date: %s\n## Auditor: %s\n\n", mdText(a.System), a.Date.UTC().Format("2006-01-02"), mdText(a.Auditor))

	fmt.Fprint(ew, "## Concurrent Access Points Identified\n\n")
	t := newMarkdownTable(ew)
	t.Header("Resource", "Concurrent Access Pattern", "Protection", "Verdict", "Test (profile)")
	for _, p := range a.Points {
		if err := t.Append([]string{mdText(p.Resource), mdText(p.Pattern), mdText(p.Protection),
			resultEmoji(p.Verdict) + " " + string(p.Verdict), mdText(p.TestID) + " (" + mdCode(p.Profile) + ")"}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	fmt.Fprint(ew, "\n## Test Results\n\n")
	t = newMarkdownTable(ew)
	t.Header("Test ID", "Description", "Result", "Evidence")
	for _, at := range a.Tests {
		var ev []string
		for i, e := range at.Evidence {
			if i == 0 {
				ev = append(ev, mdText(e))
				continue
			}
			ev = append(ev, mdCode(e))
		}
		if err := t.Append([]string{mdText(firstNonEmpty(at.ID, "unassigned")), mdText(at.Description),
			resultEmoji(at.Result) + " " + string(at.Result), strings.Join(ev, "<br>")}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	fmt.Fprintf(ew, "\n## Score: %s\n\n%s (exit %d).\n\n", a.Score, mdText(a.ScoreReason), a.ExitCode)
	fmt.Fprintf(ew, "Rule: %s\n\n", mdText(ScoreRule))

	if findings := auditFindings(a); len(findings) > 0 {
		fmt.Fprint(ew, "## Findings\n\n")
		for _, f := range findings {
			fmt.Fprintf(ew, "### %s %s · %s: %s\n\n", resultEmoji(ResultFail), mdText(f.testID), mdCode(f.profile), mdText(f.inv.Name))
			if f.inv.Anomaly != "" {
				fmt.Fprintf(ew, "- anomaly: **%s**\n", mdText(f.inv.Anomaly))
			}
			if f.inv.Explanation != "" {
				fmt.Fprintf(ew, "- explanation: %s\n", mdText(f.inv.Explanation))
			}
			if lines := opLines(f.inv, len(f.inv.Ops)); len(lines) > 0 {
				fmt.Fprint(ew, "- ops:\n")
				for _, l := range lines {
					fmt.Fprintf(ew, "  - %s\n", mdCode(l))
				}
			}
			if f.inv.Expected != "" {
				fmt.Fprintf(ew, "- expected: %s\n", mdCode(f.inv.Expected))
			}
			if f.inv.Actual != "" {
				fmt.Fprintf(ew, "- actual: %s\n", mdCode(f.inv.Actual))
			}
			if len(f.inv.Evidence) > 0 {
				fmt.Fprint(ew, "- evidence:\n")
				for _, e := range f.inv.Evidence {
					fmt.Fprintf(ew, "  - %s\n", mdCode(e))
				}
			}
			if f.inv.Fix != "" {
				fmt.Fprintf(ew, "- fix: %s\n", mdText(f.inv.Fix))
			}
			fmt.Fprintln(ew)
		}
	}

	fmt.Fprint(ew, "## Runs\n\n")
	t = newMarkdownTable(ew)
	t.Header("Profile", "Test", "Verdict", "Exit", "Run folder", "Replay")
	for _, r := range a.Runs {
		id := "unassigned"
		if r.Audit != nil {
			id = r.Audit.ID
		}
		folder, replay := "", ""
		if r.Dir != "" {
			folder = "[" + mdText(r.Dir) + "](" + strings.ReplaceAll(r.Dir, " ", "%20") + "/)"
		}
		if r.Result != nil {
			replay = mdCode(ReplayCommand(r.Result))
		} else if r.Error != "" {
			replay = "error: " + mdCode(r.Error)
		}
		v := r.Verdict()
		if err := t.Append([]string{mdCode(r.Profile), mdText(id), resultEmoji(v) + " " + string(v), fmt.Sprint(r.ExitCode), folder, replay}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return ew.err
}

// auditFinding is one violated invariant of one run.
type auditFinding struct {
	testID, profile string
	inv             invariants.Result
}

// auditFindings lists every violated invariant, in run order.
func auditFindings(a *AuditReport) []auditFinding {
	var out []auditFinding
	for _, r := range a.Runs {
		if r.Result == nil {
			continue
		}
		id := "unassigned"
		if r.Audit != nil {
			id = r.Audit.ID
		}
		for _, inv := range r.Result.Invariants {
			if inv.Verdict == invariants.Fail {
				out = append(out, auditFinding{testID: id, profile: r.Profile, inv: inv})
			}
		}
	}
	return out
}

func resultEmoji(r TestResult) string {
	switch r {
	case ResultPass:
		return "✅"
	case ResultFail:
		return "❌"
	case ResultInconclusive:
		return "❔"
	case ResultInterrupted:
		return "⏹️"
	case ResultNotRun:
		return "➖"
	default:
		return "⚠️"
	}
}
