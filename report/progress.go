package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/collide-dev/collide/history"
	"golang.org/x/term"
)

// ProgressSnapshot is the state of a run in progress, as the live progress
// line shows it.
type ProgressSnapshot struct {
	// Elapsed is the time since the attack started.
	Elapsed time.Duration
	// Sent is how many requests were started; Counts count the ones that
	// completed with each outcome.
	Sent int64
	history.Counts
	// Active names the faults in effect, e.g. "reset_peer on target".
	Active []string
}

// progressWidth bounds the progress line, in characters, so that it fits an
// 80-column terminal without wrapping (a wrapped line cannot be redrawn with
// \r).
const progressWidth = 79

// ProgressLineInterval is how often StartProgress writes a plain progress
// line where it cannot redraw one (a pipe, a file: a CI log).
const ProgressLineInterval = 5 * time.Second

// StartProgress shows the progress of a run on w until stop is called. On a
// terminal (IsTerminal, or a writer wrapped by AsTerminal) it redraws one
// line every interval (e.g. 500ms; 0 or less disables it); on any other
// *os.File — a pipe, a file, /dev/null, a CI log — it writes a plain line,
// ending in a newline, every ProgressLineInterval; on any other writer (a
// buffer) it writes nothing and never calls snap. The line shows the elapsed
// time, the send rate over the last interval in requests per second, the
// outcome counts and the active faults. stop ends the updates and clears a
// redrawn line; it is safe to call more than once. snap is called from
// another goroutine and must be safe for that.
func StartProgress(w io.Writer, every time.Duration, snap func() ProgressSnapshot) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	switch progressStyleOf(w) {
	case progressRedraw:
		if t, ok := w.(terminal); ok {
			w = t.Writer
		}
		return startProgress(w, every, snap)
	case progressLines:
		return startProgressLines(w, ProgressLineInterval, snap)
	}
	return func() {}
}

// progressStyle is how StartProgress shows progress on a writer.
type progressStyle int

const (
	progressNone   progressStyle = iota // nothing
	progressRedraw                      // one line redrawn with \r
	progressLines                       // a plain line every ProgressLineInterval
)

// progressStyleOf decides how progress is shown on w (see StartProgress).
func progressStyleOf(w io.Writer) progressStyle {
	if _, ok := w.(terminal); ok {
		return progressRedraw
	}
	if IsTerminal(w) {
		return progressRedraw
	}
	if f, ok := w.(*os.File); ok && f != nil {
		return progressLines
	}
	return progressNone
}

// terminal is a writer StartProgress treats as a terminal.
type terminal struct{ io.Writer }

// AsTerminal wraps w so that StartProgress redraws its line on it whatever
// w is (`--progress=always`).
func AsTerminal(w io.Writer) io.Writer { return terminal{w} }

// startProgressLines writes a plain progress line on w every interval until
// stop is called.
func startProgressLines(w io.Writer, every time.Duration, snap func() ProgressSnapshot) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		var prev ProgressSnapshot
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s := snap()
				var rate float64
				if dt := (s.Elapsed - prev.Elapsed).Seconds(); dt > 0 {
					rate = float64(s.Sent-prev.Sent) / dt
				}
				prev = s
				fmt.Fprintln(w, "progress: "+FormatProgress(s, rate))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// IsTerminal reports whether w is an *os.File open on a terminal
// (golang.org/x/term; /dev/null and other character devices are not).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// startProgress is StartProgress without the terminal check.
func startProgress(w io.Writer, every time.Duration, snap func() ProgressSnapshot) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		drawn := 0 // characters on the line now
		var prev ProgressSnapshot
		first := true
		for {
			select {
			case <-done:
				if drawn > 0 {
					fmt.Fprint(w, "\r"+strings.Repeat(" ", drawn)+"\r")
				}
				return
			case <-t.C:
				s := snap()
				var rate float64
				switch dt := (s.Elapsed - prev.Elapsed).Seconds(); {
				case first && s.Elapsed > 0:
					rate = float64(s.Sent) / s.Elapsed.Seconds()
				case !first && dt > 0:
					rate = float64(s.Sent-prev.Sent) / dt
				}
				prev, first = s, false
				line := FormatProgress(s, rate)
				n := utf8.RuneCountInString(line)
				pad := ""
				if drawn > n {
					pad = strings.Repeat(" ", drawn-n)
				}
				fmt.Fprint(w, "\r"+line+pad)
				drawn = n
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// FormatProgress renders the progress line for s, with rate in requests per
// second, e.g.
//
//	3.5s  700 sent 200/s  ok 690 fail 3 unknown 7  faults: reset_peer on target
//
// cut to 79 characters with "…" so it never wraps.
func FormatProgress(s ProgressSnapshot, rate float64) string {
	line := fmt.Sprintf("%s  %d sent %.0f/s  ok %d fail %d unknown %d",
		s.Elapsed.Round(100*time.Millisecond), s.Sent, rate, s.OK, s.Fail, s.Unknown)
	if len(s.Active) > 0 {
		line += "  faults: " + strings.Join(s.Active, ", ")
	}
	if utf8.RuneCountInString(line) > progressWidth {
		r := []rune(line)
		line = string(r[:progressWidth-1]) + "…"
	}
	return line
}
