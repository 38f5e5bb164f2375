package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/collide-dev/collide/invariants"
)

// RunCaseName is the name of the test case that stands for the run itself in
// JUnit output: it errors when the run could not complete or its outcomes
// were inconclusive, so that a run that never reached its checks does not
// look green in CI.
const RunCaseName = "run completes with conclusive outcomes"

// JUnit writes results as JUnit XML: a <testsuites> document with one
// <testsuite> per run (name "collide.<profile>", package "collide", id its
// index) and in it one <testcase> per invariant plus one for the run itself
// (RunCaseName). An invariant that failed has a <failure>; one in error or
// unknown has an <error>; <skipped> is never used: an invariant that could
// not be checked is an error, never a skip. Evidence goes into the failure
// or error text and into the suite's <system-out>. Timestamps are UTC
// without a zone (the schema's pattern), times are in seconds.
//
// The output validates against the Apache Ant JUnit schema (JUnit.xsd from
// windyroad/JUnit-Schema, kept in report/testdata/junit.xsd).
func JUnit(w io.Writer, results ...*Result) error {
	doc := junitSuites{}
	for i, r := range results {
		doc.Suites = append(doc.Suites, junitSuiteOf(i, r))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

// junitSuite follows the schema's element order: properties, testcase*,
// system-out, system-err (all but testcase required).
type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  cdata           `xml:"system-out"`
	SystemErr  cdata           `xml:"system-err"`
}

// cdata is element text written as CDATA, so evidence keeps its line breaks
// and quotes readable in the file.
type cdata struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

func junitSuiteOf(id int, r *Result) junitSuite {
	name := r.Profile.Name
	if strings.TrimSpace(name) == "" {
		name = "unnamed"
	}
	host := r.Env.Hostname
	if strings.TrimSpace(host) == "" {
		host = "localhost"
	}
	s := junitSuite{
		Name:      "collide." + name,
		Package:   "collide",
		ID:        id,
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  host,
		Time:      seconds(r.Finished.Sub(r.Started)),
		SystemErr: cdata{xmlSafe(r.Error)},
	}
	s.Properties = []junitProperty{
		{"profile", r.Profile.Name},
		{"profile_file", r.Profile.File},
		{"profile_hash", r.Profile.Hash},
		{"run_id", r.RunID},
		{"seed", strconv.FormatInt(r.Seed, 10)},
		{"replay", ReplayCommand(r)},
		{"verdict", string(r.Verdict)},
		{"exit_code", strconv.Itoa(r.ExitCode)},
		{"target", r.Target},
		{"database", strings.TrimSpace(r.Database)},
		{"collide_version", r.Collide},
		{"ok", strconv.Itoa(r.Totals.OK)},
		{"fail", strconv.Itoa(r.Totals.Fail)},
		{"unknown", strconv.Itoa(r.Totals.Unknown)},
	}
	for i, o := range r.Profile.Overrides {
		s.Properties = append(s.Properties, junitProperty{fmt.Sprintf("override_%d", i), o})
	}
	classname := "collide." + name

	for i, inv := range r.Invariants {
		n := inv.Name
		if strings.TrimSpace(n) == "" {
			n = fmt.Sprintf("invariant %d", i+1)
		}
		c := junitCase{Name: n, Classname: classname, Time: seconds(inv.Took)}
		switch inv.Verdict {
		case invariants.Pass:
		case invariants.Fail:
			typ := inv.Anomaly
			if typ == "" {
				typ = "invariant violated"
			}
			c.Failure = &junitProblem{Message: firstNonEmpty(inv.Explanation, inv.Actual, "invariant violated"), Type: typ, Text: invariantText(inv)}
		case invariants.Unknown:
			c.Error = &junitProblem{Message: firstNonEmpty(inv.Error, inv.Actual, "inconclusive: too many unknown outcomes to be sure"),
				Type: "inconclusive", Text: invariantText(inv)}
		default: // error, or a verdict this build does not know: never a pass
			c.Error = &junitProblem{Message: firstNonEmpty(inv.Error, "the check could not run"), Type: "check error", Text: invariantText(inv)}
		}
		s.Cases = append(s.Cases, c)
	}

	run := junitCase{Name: RunCaseName, Classname: classname, Time: seconds(r.Finished.Sub(r.Started))}
	switch r.Verdict {
	case Error, Interrupted:
		run.Error = &junitProblem{Message: firstNonEmpty(r.Error, "the run did not complete"), Type: "run " + string(r.Verdict), Text: VerdictLine(r)}
	case Unknown:
		if r.UnknownFraction > r.MaxUnknown {
			run.Error = &junitProblem{
				Message: fmt.Sprintf("%.0f%% of operations had unknown outcomes (limit %.0f%%)", 100*r.UnknownFraction, 100*r.MaxUnknown),
				Type:    "inconclusive", Text: VerdictLine(r),
			}
		}
	case Pass, Fail:
	default:
		run.Error = &junitProblem{Message: "unknown verdict " + strconv.Quote(string(r.Verdict)), Type: "run error", Text: VerdictLine(r)}
	}
	s.Cases = append(s.Cases, run)

	for _, c := range s.Cases {
		s.Tests++
		if c.Failure != nil {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
	}
	s.SystemOut = cdata{xmlSafe(junitSystemOut(r))}
	for i := range s.Cases {
		for _, p := range []*junitProblem{s.Cases[i].Failure, s.Cases[i].Error} {
			if p != nil {
				p.Text = xmlSafe(p.Text)
			}
		}
	}
	return s
}

// invariantText is the body of a failure or error: what had to hold, what
// was found, the evidence and the usual fix.
func invariantText(inv invariants.Result) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("verdict", string(inv.Verdict))
	line("check", inv.Check)
	line("expected", inv.Expected)
	line("actual", inv.Actual)
	line("anomaly", inv.Anomaly)
	line("why", inv.Explanation)
	if ops := opLines(inv, invariants.MaxOps); len(ops) > 0 {
		b.WriteString("ops:\n")
		for _, o := range ops {
			fmt.Fprintf(&b, "  %s\n", o)
		}
	}
	line("error", inv.Error)
	if len(inv.Evidence) > 0 {
		b.WriteString("evidence:\n")
		for _, e := range inv.Evidence {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	line("fix", inv.Fix)
	return b.String()
}

// junitSystemOut is the run summarised as text: verdict, identity, every
// invariant with its evidence, the attack.
func junitSystemOut(r *Result) string {
	var b strings.Builder
	fmt.Fprintln(&b, VerdictLine(r))
	fmt.Fprintf(&b, "profile %s, run %s, seed %d, target %s, database %s\n", r.Profile.Name, r.RunID, r.Seed, r.Target, strings.TrimSpace(r.Database))
	fmt.Fprintf(&b, "replay: %s\n", ReplayCommand(r))
	for _, inv := range r.Invariants {
		fmt.Fprintf(&b, "\n[%s] %s\n", strings.ToUpper(string(inv.Verdict)), inv.Name)
		for _, l := range strings.Split(strings.TrimRight(invariantText(inv), "\n"), "\n") {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	if len(r.Attack) > 0 {
		b.WriteString("\nattack:\n")
		for _, m := range r.Attack {
			if m == nil {
				continue
			}
			fmt.Fprintf(&b, "  %s: %d requests at %.1f/s, ok %d, fail %d, unknown %d, p50 %s, p99 %s, max %s\n",
				m.Op, m.Requests, m.Rate, m.OK, m.Fail, m.Unknown, dur(m.P50), dur(m.P99), dur(m.Max))
		}
	}
	return b.String()
}

// seconds renders d in seconds with millisecond precision, as JUnit wants.
func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// xmlSafe replaces the characters XML 1.0 cannot hold (most control
// characters, lone surrogates) with U+FFFD: CDATA sections, unlike escaped
// text, get no such cleaning from encoding/xml, and evidence may hold any
// bytes a database returned.
func xmlSafe(s string) string {
	ok := utf8.ValidString(s)
	for _, r := range s {
		if !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune { // also turns invalid UTF-8 into U+FFFD
		if xmlChar(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}

func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
