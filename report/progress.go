package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// ProgressSnapshot is the state of a run in progress, as the live progress
// line shows it.
type ProgressSnapshot struct {
	// Elapsed is the time since the attack started.
	Elapsed time.Duration
	// Sent is how many requests were started; OK, Fail and Unknown count the
	// ones that completed with each outcome.
	Sent, OK, Fail, Unknown int64
	// Active names the faults in effect, e.g. "reset_peer on target".
	Active []string
}

// progressWidth bounds the progress line, in characters, so that it fits an
// 80-column terminal without wrapping (a wrapped line cannot be redrawn with
// \r).
const progressWidth = 79

// StartProgress redraws one progress line on w every interval (e.g. 500ms;
// 0 or less disables it) while w is a terminal (an *os.File that is a character device); on
// anything else — a pipe, a file, a CI log — it writes nothing and never
// calls snap. The line shows the elapsed time, the send rate over the last
// interval in requests per second, the outcome counts and the active faults.
// stop ends the redraws and clears the line; it is safe to call more than
// once. snap is called from another goroutine and must be safe for that.
func StartProgress(w io.Writer, every time.Duration, snap func() ProgressSnapshot) (stop func()) {
	if !IsTerminal(w) || every <= 0 {
		return func() {}
	}
	return startProgress(w, every, snap)
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
