package report

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// go test ./report -update rewrites the golden files under testdata/golden
// from the fixture run folders under ../testdata/runs.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// checkGolden compares got with testdata/golden/name, or writes it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./report -update if the change is intended):\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where want and got differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant: %q\ngot:  %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

var fixtureRuns = []string{
	"2026-11-20/counter",
	"2026-11-20/double-submit",
	"2026-11-21/counter",
	"2026-11-21/double-submit",
	"errors/checker-error",
	"errors/run-error",
}

func loadFixture(t *testing.T, dir string) Run {
	t.Helper()
	r, err := LoadRun(filepath.Join(fixturesDir, dir))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGoldenReports renders every fixture run in every format of
// `collide report`.
func TestGoldenReports(t *testing.T) {
	formats := []struct {
		name   string
		ext    string
		render func(*bytes.Buffer, Run) error
	}{
		{"table", "txt", func(b *bytes.Buffer, r Run) error { return Table(b, r.Result) }},
		{"markdown", "md", func(b *bytes.Buffer, r Run) error { return Markdown(b, r.Result) }},
		{"junit", "xml", func(b *bytes.Buffer, r Run) error { return JUnit(b, r.Result) }},
		{"html", "html", func(b *bytes.Buffer, r Run) error {
			return HTML(b, r.Result, HTMLOptions{HistoryPath: r.HistoryPath()})
		}},
	}
	for _, dir := range fixtureRuns {
		for _, f := range formats {
			t.Run(dir+"/"+f.name, func(t *testing.T) {
				run := loadFixture(t, dir)
				var b bytes.Buffer
				if err := f.render(&b, run); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, strings.ReplaceAll(dir, "/", "_")+"."+f.ext, b.Bytes())
			})
		}
	}
}

// TestGoldenCompare compares the two fixture nights (matched by profile) and
// two single runs, in every format of `collide compare`.
func TestGoldenCompare(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"nights", []string{"2026-11-20", "2026-11-21"}},
		{"counter-runs", []string{"2026-11-20/counter", "2026-11-21/counter"}},
		{"three-runs", []string{"errors/checker-error", "2026-11-20/counter", "2026-11-21/counter"}},
	}
	for _, tc := range cases {
		var sets []RunSet
		for _, a := range tc.args {
			runs, skipped, err := LoadRuns(filepath.Join(fixturesDir, a))
			if err != nil || len(skipped) > 0 {
				t.Fatal(err, skipped)
			}
			sets = append(sets, RunSet{Label: a, Runs: runs})
		}
		cs := CompareSets(sets, DefaultCompareOptions())
		for _, f := range []struct {
			ext    string
			render func(*bytes.Buffer) error
		}{
			{"txt", func(b *bytes.Buffer) error { return CompareTable(b, cs) }},
			{"md", func(b *bytes.Buffer) error { return CompareMarkdown(b, cs) }},
			{"json", func(b *bytes.Buffer) error { return CompareJSON(b, cs) }},
		} {
			t.Run(tc.name+"/"+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.render(&b); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "compare_"+tc.name+"."+f.ext, b.Bytes())
			})
		}
	}
}

// TestGoldenHistory lists every fixture run, and only one profile's.
func TestGoldenHistory(t *testing.T) {
	runs, skipped, err := FindRuns(fixturesDir)
	if err != nil || len(skipped) > 0 {
		t.Fatal(err, skipped)
	}
	for _, tc := range []struct {
		name    string
		profile string
	}{{"all", ""}, {"counter", "counter"}} {
		entries := HistoryEntries(runs, tc.profile)
		for _, f := range []struct {
			ext    string
			render func(*bytes.Buffer) error
		}{
			{"txt", func(b *bytes.Buffer) error { return HistoryTable(b, entries) }},
			{"md", func(b *bytes.Buffer) error { return HistoryMarkdown(b, entries) }},
			{"json", func(b *bytes.Buffer) error { return HistoryJSON(b, entries) }},
		} {
			t.Run(tc.name+"/"+f.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.render(&b); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, "history_"+tc.name+"."+f.ext, b.Bytes())
			})
		}
	}
}
