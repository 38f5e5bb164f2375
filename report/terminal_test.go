package report

import (
	"bytes"
	"os"
	"testing"
)

// TestTerminalWidth: COLUMNS wins; a pipe, a file, a buffer and /dev/null
// are not terminals and get no limit.
func TestTerminalWidth(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	env := func(cols string) func(string) string {
		return func(k string) string {
			if k == "COLUMNS" {
				return cols
			}
			return ""
		}
	}
	cases := []struct {
		name    string
		w       any
		columns string
		want    int
	}{
		{"buffer", &bytes.Buffer{}, "", 0},
		{"pipe", w, "", 0},
		{"dev null", devNull, "", 0},
		{"COLUMNS on a pipe", w, "100", 100},
		{"COLUMNS with spaces", &bytes.Buffer{}, " 90 ", 90},
		{"COLUMNS not a number", &bytes.Buffer{}, "wide", 0},
		{"COLUMNS zero", &bytes.Buffer{}, "0", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.w.(interface{ Write([]byte) (int, error) })
			if got := TerminalWidth(out, env(tc.columns)); got != tc.want {
				t.Errorf("TerminalWidth = %d, want %d", got, tc.want)
			}
		})
	}
	if IsTerminal(devNull) {
		t.Error("/dev/null is a terminal")
	}
}
