package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/collide-dev/collide/history"
)

// TestVegetaResults converts fixture histories and reads them back the way
// `vegeta report` does (format detection, vegeta.Metrics, the text
// reporter): request counts, status codes and successes match the history.
func TestVegetaResults(t *testing.T) {
	for _, dir := range []string{"2026-11-21/counter", "2026-11-21/double-submit", "errors/run-error"} {
		t.Run(dir, func(t *testing.T) {
			run := loadFixture(t, dir)
			ops, err := history.ReadAll(run.HistoryPath())
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), VegetaFile)
			if err := WriteVegetaResults(run.HistoryPath(), out); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			dec := vegeta.DecoderFor(f) // what `vegeta report` calls on each file
			if dec == nil && len(ops) > 0 {
				t.Fatal("vegeta does not recognise the file's format")
			}
			var m vegeta.Metrics
			var decoded []vegeta.Result
			for dec != nil {
				var r vegeta.Result
				if err := dec.Decode(&r); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				m.Add(&r)
				decoded = append(decoded, r)
			}
			m.Close()

			want := map[string]int{}
			success := 0
			for _, op := range ops {
				want[strconv.Itoa(op.Status)]++
				if op.Status >= 200 && op.Status < 400 {
					success++
				}
			}
			if int(m.Requests) != len(ops) || len(decoded) != len(ops) {
				t.Fatalf("vegeta counts %d requests, the history has %d", m.Requests, len(ops))
			}
			for code, n := range want {
				if m.StatusCodes[code] != n {
					t.Fatalf("status %s: vegeta counts %d, history %d (all: %v)", code, m.StatusCodes[code], n, m.StatusCodes)
				}
			}
			for i, r := range decoded {
				op := ops[i]
				if r.Attack != op.Op || !r.Timestamp.Equal(op.Invoke) || r.Latency != op.Latency() {
					t.Fatalf("result %d = %+v, op %+v", i, r, op)
				}
			}
			var text bytes.Buffer
			if err := vegeta.NewTextReporter(&m).Report(&text); err != nil {
				t.Fatal(err)
			}
			report := text.String()
			if len(ops) > 0 {
				if !regexp.MustCompile(fmt.Sprintf(`\[total, rate, throughput\]\s+%d,`, len(ops))).MatchString(report) {
					t.Fatalf("vegeta report:\n%s", report)
				}
				if got := fmt.Sprintf("%.2f%%", 100*float64(success)/float64(len(ops))); !strings.Contains(report, got) {
					t.Fatalf("vegeta report lacks success ratio %s:\n%s", got, report)
				}
				for code, n := range want {
					if !strings.Contains(report, fmt.Sprintf("%s:%d", code, n)) {
						t.Fatalf("vegeta report lacks %s:%d:\n%s", code, n, report)
					}
				}
			}
			t.Logf("vegeta report of %s:\n%s", dir, report)
		})
	}
}

func TestVegetaResultErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   history.Op
		want string
	}{
		{"ok has no error", history.Op{Status: 200, Outcome: history.OK}, ""},
		{"redirect has no error", history.Op{Status: 302, Outcome: history.OK}, ""},
		{"rejection gets the status text", history.Op{Status: 409, Outcome: history.Fail}, "409 Conflict"},
		{"server error gets the status text", history.Op{Status: 503, Outcome: history.Unknown}, "503 Service Unavailable"},
		{"transport error kept", history.Op{Outcome: history.Unknown, Error: "connection reset by peer"}, "connection reset by peer"},
		{"no response at all", history.Op{Outcome: history.Unknown}, "unknown outcome: no response"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := VegetaResult(&tc.op).Error; got != tc.want {
				t.Fatalf("Error = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestVegetaResultsMissingHistory(t *testing.T) {
	dir := t.TempDir()
	err := WriteVegetaResults(filepath.Join(dir, "nope.jsonl"), filepath.Join(dir, VegetaFile))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err = %v, want not-exist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, VegetaFile)); !os.IsNotExist(err) {
		t.Fatal("a failed conversion left a results file")
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}
