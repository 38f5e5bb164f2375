package report

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collide-dev/collide/history"
)

func TestFormatProgress(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    ProgressSnapshot
		rate float64
		want string
	}{
		{"no faults", ProgressSnapshot{Elapsed: 3520 * time.Millisecond, Sent: 700, Counts: history.Counts{OK: 690, Fail: 3, Unknown: 7}}, 199.6,
			"3.5s  700 sent 200/s  ok 690 fail 3 unknown 7"},
		{"active faults", ProgressSnapshot{Elapsed: time.Second, Sent: 10, Counts: history.Counts{OK: 10}, Active: []string{"reset_peer on target"}}, 10,
			"1s  10 sent 10/s  ok 10 fail 0 unknown 0  faults: reset_peer on target"},
		{"too long is cut", ProgressSnapshot{Elapsed: time.Minute, Active: []string{"latency on database", "reset_peer on target", "bandwidth on target"}}, 0,
			"1m0s  0 sent 0/s  ok 0 fail 0 unknown 0  faults: latency on database, reset_pe…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FormatProgress(tc.s, tc.rate)
			if got != tc.want {
				t.Fatalf("FormatProgress = %q\nwant             %q", got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > progressWidth {
				t.Fatalf("%d characters, more than %d", n, progressWidth)
			}
		})
	}
}

// TestProgressStyle: a terminal (or a writer marked AsTerminal) gets the
// redrawn line; a pipe, a file and /dev/null — not terminals — get plain
// lines; a buffer gets nothing.
func TestProgressStyle(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	cases := []struct {
		name string
		w    io.Writer
		want progressStyle
	}{
		{"pipe", w, progressLines},
		{"file", file, progressLines},
		{"dev null", devNull, progressLines},
		{"buffer", &bytes.Buffer{}, progressNone},
		{"nil file", (*os.File)(nil), progressNone},
		{"fake terminal", AsTerminal(&bytes.Buffer{}), progressRedraw},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressStyleOf(tc.w); got != tc.want {
				t.Fatalf("style %d, want %d", got, tc.want)
			}
		})
	}
}

// TestProgressSilentOnBuffer: on a writer that is not a file nothing is
// written and snap is never called.
func TestProgressSilentOnBuffer(t *testing.T) {
	var buf bytes.Buffer
	var calls atomic.Int64
	stop := StartProgress(&buf, time.Millisecond, func() ProgressSnapshot { calls.Add(1); return ProgressSnapshot{} })
	time.Sleep(20 * time.Millisecond)
	stop()
	stop()
	if calls.Load() != 0 || buf.Len() != 0 {
		t.Fatalf("snap called %d times, %d bytes written", calls.Load(), buf.Len())
	}
}

// TestProgressLinesOnFile: off a terminal (a CI log) progress is plain
// lines, each ending in a newline, never a \r, and stop writes nothing more.
func TestProgressLinesOnFile(t *testing.T) {
	file, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var n atomic.Int64
	stop := startProgressLines(file, 5*time.Millisecond, func() ProgressSnapshot {
		i := n.Add(1)
		return ProgressSnapshot{Elapsed: time.Duration(i) * time.Second, Sent: i * 100, Counts: history.Counts{OK: int(i) * 100}}
	})
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	stop()
	data, err := os.ReadFile(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if strings.Contains(got, "\r") || len(lines) < 3 || !strings.HasSuffix(got, "\n") {
		t.Fatalf("want at least 3 plain lines, got %q", got)
	}
	if !strings.HasPrefix(lines[0], "progress: 1s  100 sent 100/s  ok 100") || !strings.Contains(lines[1], "100/s") {
		t.Fatalf("lines %q", lines)
	}
}

// syncBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressRedraws: on a terminal the line is redrawn in place with \r,
// padded over a longer previous line, and stop clears it.
func TestProgressRedraws(t *testing.T) {
	var out syncBuffer
	var n atomic.Int64
	snap := func() ProgressSnapshot {
		i := n.Add(1)
		s := ProgressSnapshot{Elapsed: time.Duration(i) * 100 * time.Millisecond, Sent: i * 20, Counts: history.Counts{OK: int(i) * 20}}
		if i == 1 {
			s.Active = []string{"reset_peer on target"}
		}
		return s
	}
	stop := startProgress(&out, 5*time.Millisecond, snap)
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	stop() // idempotent
	got := out.String()
	if strings.Contains(got, "\n") {
		t.Fatalf("progress wrote a newline: %q", got)
	}
	draws := strings.Split(got, "\r")
	if len(draws) < 4 || !strings.HasPrefix(draws[1], "100ms  20 sent 200/s") || !strings.Contains(draws[1], "faults: reset_peer on target") {
		t.Fatalf("draws %q", draws)
	}
	// The second draw is shorter than the first: padded with spaces over it.
	if utf8.RuneCountInString(draws[2]) != utf8.RuneCountInString(draws[1]) || !strings.Contains(draws[2], "200/s") {
		t.Fatalf("second draw %q does not cover the first %q (or its rate is not per interval)", draws[2], draws[1])
	}
	// stop: \r, spaces over the last line, \r.
	if last := draws[len(draws)-2]; strings.TrimSpace(last) != "" || draws[len(draws)-1] != "" {
		t.Fatalf("line not cleared at stop: %q", got[len(got)-min(len(got), 200):])
	}
}
