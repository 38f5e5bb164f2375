package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/invariants"
)

// validateJUnit validates doc against testdata/junit.xsd with xmllint.
func validateJUnit(t *testing.T, doc []byte) {
	t.Helper()
	xmllint := requireTool(t, "xmllint", "libxml2-utils")
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\ndocument:\n%s", err, out, doc)
	}
}

// TestJUnitValidates: every fixture run, all of them in one document, and
// edge cases validate against the JUnit schema, with the counts CI reads.
func TestJUnitValidates(t *testing.T) {
	var all []*Result
	for _, dir := range fixtureRuns {
		all = append(all, loadFixture(t, dir).Result)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	edge := func(f func(r *Result)) *Result {
		r := &Result{Schema: SchemaVersion, Started: start, Finished: start.Add(time.Second), Verdict: Pass}
		f(r)
		return r
	}
	for _, tc := range []struct {
		name                         string
		results                      []*Result
		tests, failures, errs, suite int
	}{
		{"failing run", []*Result{all[2]}, 3, 2, 0, 1},
		{"inconclusive run", []*Result{all[3]}, 3, 0, 1, 1},
		{"checker error", []*Result{all[4]}, 3, 0, 2, 1},
		{"run never checked", []*Result{all[5]}, 1, 0, 1, 1},
		{"every fixture in one document", all, 16, 2, 4, 6},
		{"empty names, no host, hostile text", []*Result{edge(func(r *Result) {
			r.Verdict = Fail
			r.Invariants = []invariants.Result{
				{Name: "", Verdict: invariants.Fail, Actual: "bad\x00bytes \xff and ]]> and <tag> & \"quotes\"", Evidence: []string{"\x1b[31mred\x1b[0m"}},
				{Name: "  ", Verdict: invariants.Unknown},
			}
		})}, 3, 1, 1, 1},
		{"unknown verdict is never a pass", []*Result{edge(func(r *Result) {
			r.Verdict = "weird"
			r.Invariants = []invariants.Result{{Name: "x", Verdict: "weird"}}
		})}, 2, 0, 2, 1},
		{"no run at all", nil, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := JUnit(&b, tc.results...); err != nil {
				t.Fatal(err)
			}
			var doc junitSuites
			if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatalf("not XML: %v\n%s", err, b.String())
			}
			var tests, failures, errs int
			for _, s := range doc.Suites {
				tests, failures, errs = tests+s.Tests, failures+s.Failures, errs+s.Errors
				if s.Skipped != 0 {
					t.Fatalf("suite %s skipped %d: collide never skips", s.Name, s.Skipped)
				}
			}
			if len(doc.Suites) != tc.suite || tests != tc.tests || failures != tc.failures || errs != tc.errs {
				t.Fatalf("%d suites, tests=%d failures=%d errors=%d; want %d suites, %d/%d/%d", len(doc.Suites), tests, failures, errs,
					tc.suite, tc.tests, tc.failures, tc.errs)
			}
			if tc.results != nil {
				validateJUnit(t, b.Bytes())
			}
		})
	}
}

// TestJUnitEvidence: a failure carries the evidence, readable in CDATA.
func TestJUnitEvidence(t *testing.T) {
	var b bytes.Buffer
	if err := JUnit(&b, loadFixture(t, "2026-11-21/counter").Result); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<failure message="Let increments #212 and #213 both read value 205; Then both wrote 206 and were acknowledged, so one of them was lost (and 36 more pairs)." type="lost update"><![CDATA[`,
		"why: Let increments #212 and #213",
		"ops:\n  #212 incr unknown 03:00:01.355106→03:00:01.356521 (read 205, wrote 206)\n  #213 incr ok 200 ",
		"(read 205, wrote 206)\n",
		"  … 68 more\n",
		"  ops #212, #213 both read value=205 and wrote 206\n",
		`timestamp="2026-11-21T03:00:00"`,
		`<property name="replay" value="collide run -seed 3333 counter">`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("junit lacks %q", want)
		}
	}
}

func TestXMLSafe(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "a\tb\nc", "a\tb\nc"},
		{"control", "a\x00b\x1bc", "a\uFFFDb\uFFFDc"},
		{"invalid utf-8", "a\xffb", "a\uFFFDb"},
		{"non-characters", "a\uFFFEb", "a\uFFFDb"},
		{"astral", "🦀", "🦀"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := xmlSafe(tc.in); got != tc.want {
				t.Fatalf("xmlSafe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
