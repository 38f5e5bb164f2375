package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTablesFitColumns: with COLUMNS set, every table command's output fits
// it; -wide prints every column, wider than that.
func TestTablesFitColumns(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"report", []string{"report", fixtureRun("2026-11-21", "counter")}},
		{"compare", []string{"compare", "-force", fixtureRun("2026-11-20"), fixtureRun("2026-11-21")}},
		{"history", []string{"history", fixtureRun()}},
		{"list", []string{"list"}},
	}
	widest := func(s string) int {
		n := 0
		for _, l := range strings.Split(s, "\n") {
			n = max(n, utf8.RuneCountInString(l))
		}
		return n
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COLUMNS", "80")
			code, stdout, stderr := collide(t, tc.args...)
			if code != 0 && code != 1 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if n := widest(stdout); n > 80 {
				t.Errorf("a line is %d characters wide with COLUMNS=80:\n%s", n, stdout)
			}
			if tc.name == "list" {
				return // its widest row fits 120 anyway
			}
			_, wide, _ := collide(t, append([]string{tc.args[0], "-wide"}, tc.args[1:]...)...)
			if n := widest(wide); n <= 80 {
				t.Errorf("-wide is only %d characters wide:\n%s", n, wide)
			}
		})
	}
}
