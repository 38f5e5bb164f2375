package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed audit.tmpl
var auditTemplateText string

var auditTemplate = template.Must(template.New("audit").Parse(auditTemplateText))

// AuditHTML writes a as one self-contained HTML page (no scripts, no
// external resources): the same sections as AuditMarkdown, every text from
// the runs escaped by html/template, each run folder linked by its relative
// path.
func AuditHTML(w io.Writer, a *AuditReport) error {
	if err := auditTemplate.Execute(w, newAuditPage(a)); err != nil {
		return fmt.Errorf("report: audit html: %w", err)
	}
	return nil
}

type auditPage struct {
	A          *AuditReport
	ScoreClass string
	Date       string
	Rule       string
	Points     []auditPagePoint
	Tests      []auditPageTest
	Findings   []auditPageFinding
	Runs       []auditPageRun
}

type auditPagePoint struct {
	AccessPoint
	Class string
}

type auditPageTest struct {
	ID, Description, Class, Answer string
	Result                         TestResult
	Details                        []string
}

type auditPageFinding struct {
	TestID, Profile, Name, Anomaly, Expected, Actual, Fix, Explanation string
	Evidence, Ops                                                      []string
}

type auditPageRun struct {
	Profile, TestID, Class, Dir, Replay, Error string
	Verdict                                    TestResult
	Exit                                       int
}

func newAuditPage(a *AuditReport) *auditPage {
	p := &auditPage{A: a, Date: a.Date.UTC().Format("2006-01-02"), Rule: ScoreRule}
	switch a.Score {
	case ScorePass:
		p.ScoreClass = "v-pass"
	case ScoreFail:
		p.ScoreClass = "v-fail"
	default:
		p.ScoreClass = "v-unknown"
	}
	for _, pt := range a.Points {
		p.Points = append(p.Points, auditPagePoint{AccessPoint: pt, Class: resultClass(pt.Verdict)})
	}
	for _, t := range a.Tests {
		pt := auditPageTest{ID: firstNonEmpty(t.ID, "unassigned"), Description: t.Description, Result: t.Result, Class: resultClass(t.Result)}
		if len(t.Evidence) > 0 {
			pt.Answer, pt.Details = t.Evidence[0], t.Evidence[1:]
		}
		p.Tests = append(p.Tests, pt)
	}
	for _, f := range auditFindings(a) {
		p.Findings = append(p.Findings, auditPageFinding{TestID: f.testID, Profile: f.profile, Name: f.inv.Name, Anomaly: f.inv.Anomaly,
			Expected: f.inv.Expected, Actual: f.inv.Actual, Fix: f.inv.Fix, Evidence: f.inv.Evidence,
			Explanation: f.inv.Explanation, Ops: opLines(f.inv, len(f.inv.Ops))})
	}
	for _, r := range a.Runs {
		pr := auditPageRun{Profile: r.Profile, TestID: "unassigned", Dir: r.Dir, Verdict: r.Verdict(), Exit: r.ExitCode, Error: r.Error}
		pr.Class = resultClass(pr.Verdict)
		if r.Audit != nil {
			pr.TestID = r.Audit.ID
		}
		if r.Result != nil {
			pr.Replay = ReplayCommand(r.Result)
			pr.Error = ""
		}
		p.Runs = append(p.Runs, pr)
	}
	return p
}

func resultClass(r TestResult) string {
	switch r {
	case ResultPass:
		return "v-pass"
	case ResultFail:
		return "v-fail"
	case ResultInconclusive:
		return "v-unknown"
	case ResultNotRun:
		return "v-none"
	default:
		return "v-error"
	}
}
