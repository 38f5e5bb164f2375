package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/collide-dev/collide/profiles"
)

// fitWidths are the terminal widths every table is rendered at: the classic
// 80 columns and a common wide terminal.
var fitWidths = []int{80, 120}

// checkFits fails when a line of out is wider than width characters.
func checkFits(t *testing.T, out []byte, width int) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if n := twwidth.Width(l); n > width {
			t.Errorf("line %d is %d characters wide, more than %d:\n%s", i+1, n, width, l)
		}
	}
}

// TestGoldenTablesFit renders the run, compare, history and list tables at
// 80 and 120 columns: each golden file is what that terminal shows, and no
// line is wider than it.
func TestGoldenTablesFit(t *testing.T) {
	type render func(*bytes.Buffer, int) error
	cases := map[string]render{}
	for _, dir := range fixtureRuns {
		cases["run_"+strings.ReplaceAll(dir, "/", "_")] = func(b *bytes.Buffer, width int) error {
			return TableWidth(b, loadFixture(t, dir).Result, width)
		}
	}
	for name, args := range map[string][]string{
		"nights":       {"2026-11-20", "2026-11-21"},
		"counter-runs": {"2026-11-20/counter", "2026-11-21/counter"},
		"three-runs":   {"errors/checker-error", "2026-11-20/counter", "2026-11-21/counter"},
	} {
		cases["compare_"+name] = func(b *bytes.Buffer, width int) error {
			var sets []RunSet
			for _, a := range args {
				runs, skipped, err := LoadRuns(filepath.Join(fixturesDir, a))
				if err != nil || len(skipped) > 0 {
					return fmt.Errorf("%v %v", err, skipped)
				}
				sets = append(sets, RunSet{Label: a, Runs: runs})
			}
			return CompareTableWidth(b, CompareSets(sets, DefaultCompareOptions()), width)
		}
	}
	cases["history_all"] = func(b *bytes.Buffer, width int) error {
		runs, skipped, err := FindRuns(fixturesDir)
		if err != nil || len(skipped) > 0 {
			return fmt.Errorf("%v %v", err, skipped)
		}
		return HistoryTableWidth(b, HistoryEntries(runs, ""), width)
	}
	cases["list"] = func(b *bytes.Buffer, width int) error {
		return ListTableWidth(b, []profiles.BuiltinInfo{
			{Name: "counter", About: "RC-006: every acknowledged increment of a counter is counted exactly once (lost update)"},
			{Name: "double-submit", About: "RC-001: one order per idempotency key, however many copies of the request arrive at once"},
			{Name: "x", About: "a-profile-whose-description-is-one-very-long-word-that-cannot-break-anywhere-at-all-really"},
		}, width)
	}
	for name, r := range cases {
		for _, width := range fitWidths {
			t.Run(fmt.Sprintf("%s/%d", name, width), func(t *testing.T) {
				var b bytes.Buffer
				if err := r(&b, width); err != nil {
					t.Fatal(err)
				}
				checkFits(t, b.Bytes(), width)
				checkGolden(t, fmt.Sprintf("fit%d/%s.txt", width, name), b.Bytes())
			})
		}
	}
}

// TestBuiltinListFits lists the real built-in profiles at 80 columns.
func TestBuiltinListFits(t *testing.T) {
	var b bytes.Buffer
	if err := ListTableWidth(&b, profiles.Builtins(), 80); err != nil {
		t.Fatal(err)
	}
	checkFits(t, b.Bytes(), 80)
	if !strings.Contains(b.String(), "counter") {
		t.Errorf("the list lacks the counter profile:\n%s", b.String())
	}
}

// TestWrapText breaks text between words and cuts words longer than the
// width, keeping every character in order.
func TestWrapText(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		width int
		want  []string
	}{
		{"fits", "a b", 5, []string{"a b"}},
		{"between words", "alpha beta gamma", 10, []string{"alpha beta", "gamma"}},
		{"long word cut", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"own newlines", "a\n\nb", 5, []string{"a", "", "b"}},
		{"indent kept", "  alpha beta", 8, []string{"  alpha", "  beta"}},
		{"wide runes", "…→…→…", 2, []string{"…→", "…→", "…"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := wrapText(tc.in, tc.width)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("wrapText(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
			}
		})
	}
}
