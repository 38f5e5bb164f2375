package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditSuiteName is the name of the JUnit suite that holds the audit's test
// results.
const AuditSuiteName = "collide.audit"

// AuditJUnit writes a as JUnit XML for CI: a first <testsuite> named
// AuditSuiteName with one <testcase> per audit test that a profile performed
// (name "TEST-RC-006 Counter consistency"; a <failure> for FAIL, an <error>
// for INCONCLUSIVE, ERROR, INTERRUPTED or NOT RUN, the evidence as its text)
// and the score in its properties; then one suite per run that has a
// result, exactly as `collide report -format junit` writes it. Audit tests
// no profile performs are left out: they are not part of this audit. The
// output validates against the same schema as JUnit.
func AuditJUnit(w io.Writer, a *AuditReport) error {
	doc := junitSuites{Suites: []junitSuite{auditSuite(a)}}
	for _, r := range a.Runs {
		if r.Result != nil {
			doc.Suites = append(doc.Suites, junitSuiteOf(len(doc.Suites), r.Result))
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: audit junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: audit junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: audit junit: %w", err)
	}
	return nil
}

func auditSuite(a *AuditReport) junitSuite {
	var took time.Duration
	for _, r := range a.Runs {
		if r.Result != nil {
			took += r.Result.Finished.Sub(r.Result.Started)
		}
	}
	s := junitSuite{
		Name:      AuditSuiteName,
		Package:   "collide",
		Timestamp: a.Date.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  "localhost",
		Time:      seconds(took),
		Properties: []junitProperty{
			{"system", a.System},
			{"auditor", a.Auditor},
			{"score", string(a.Score)},
			{"score_reason", a.ScoreReason},
			{"score_rule", ScoreRule},
			{"exit_code", strconv.Itoa(a.ExitCode)},
		},
	}
	for _, r := range a.Runs {
		if r.Result != nil && strings.TrimSpace(r.Result.Env.Hostname) != "" {
			s.Hostname = r.Result.Env.Hostname
			break
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "score: %s: %s\n", a.Score, a.ScoreReason)
	for _, t := range a.Tests {
		if len(t.Profiles) == 0 {
			continue
		}
		id := firstNonEmpty(t.ID, "unassigned")
		c := junitCase{Name: id + " " + t.Description, Classname: AuditSuiteName, Time: "0.000"}
		var caseTook time.Duration
		for _, r := range a.Runs {
			if r.Result != nil && slices.Contains(t.Profiles, r.Profile) {
				caseTook += r.Result.Finished.Sub(r.Result.Started)
			}
		}
		c.Time = seconds(caseTook)
		text := xmlSafe(strings.Join(t.Evidence, "\n") + "\nprofiles: " + strings.Join(t.Profiles, ", ") + "\n")
		msg := firstNonEmpty(firstLine(t.Evidence), string(t.Result))
		switch t.Result {
		case ResultPass:
		case ResultFail:
			c.Failure = &junitProblem{Message: msg, Type: "race condition", Text: text}
		default:
			c.Error = &junitProblem{Message: msg, Type: strings.ToLower(string(t.Result)), Text: text}
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
		fmt.Fprintf(&out, "\n[%s] %s %s\n", t.Result, id, t.Description)
		for _, e := range t.Evidence {
			fmt.Fprintf(&out, "  %s\n", e)
		}
	}
	s.SystemOut = cdata{xmlSafe(out.String())}
	return s
}

func firstLine(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
