package stacks

import (
	"io"
	"os"
	"strings"
)

// tailLines returns the last n non-empty lines of the file at path, each cut
// to 200 bytes, joined with " | " so that an error stays on one line. The
// file's last 16 KiB are read.
func tailLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 16 << 10
	if st, err := f.Stat(); err == nil && st.Size() > max {
		if _, err := f.Seek(st.Size()-max, io.SeekStart); err != nil {
			return ""
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if len(l) > 200 {
				l = l[:200] + "…"
			}
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// withLog appends where the log is, and how it ends, to a start error.
func withLog(msg, path string) string {
	tail := tailLines(path, 5)
	if tail == "" {
		return msg + "; its log " + path + " is empty"
	}
	return msg + "; its log " + path + " ends: " + tail
}
