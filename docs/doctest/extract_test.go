// Package doctest runs every `collide …` command of README.md and
// docs/*.md exactly as written (TestDocCommands). It holds tests only.
package doctest

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// command is one fenced `collide …` line of a document, with its
// backslash continuations (and a quoted value going on over several lines)
// joined.
type command struct {
	// Line is the 1-based line of the document the command starts on.
	Line int
	// Text is the command as run: the trailing comment and " &" removed,
	// `go run ./cmd/collide ` spelled `collide `.
	Text string
	// Comment is what followed " # " on the line, if anything.
	Comment string
	// Background is true for a command written with a trailing " &": it
	// runs until the document's last command has run, then gets SIGINT.
	Background bool
	// Skip is the reason of a `<!-- doctest: skip (REASON) -->` marker
	// right before the command's fence; empty when the command runs.
	Skip string
}

// document is what a Markdown file tells the reader to run and to save.
type document struct {
	Commands []command
	// Files maps a name the document says to "Save it as `NAME`" to the
	// content of the YAML block that follows.
	Files map[string]string
}

var (
	saveAs      = regexp.MustCompile("[Ss]ave it as `([^`]+)`")
	skipMarker  = regexp.MustCompile(`^<!--\s*doctest:\s*skip\s*\((.+)\)\s*-->\s*$`)
	cmdStart    = regexp.MustCompile(`^(collide|go run \./cmd/collide) `)
	trailingCmt = regexp.MustCompile(`[ \t]+#[ \t].*$`)
	exitComment = regexp.MustCompile(`\bexit (\d+)\b`)
)

// openQuote reports whether s, without its trailing comment, has an odd
// number of single quotes: a quoted value that goes on on the next line.
func openQuote(s string) bool {
	return strings.Count(trailingCmt.ReplaceAllString(s, ""), "'")%2 == 1
}

// parse reads a Markdown document as .ci/doc-commands.sh did: fences are
// lines starting with ```; a YAML fence after "Save it as `NAME`" is a
// file to write; a fenced line starting with `collide ` or
// `go run ./cmd/collide ` is a command.
func parse(r io.Reader) (document, error) {
	doc := document{Files: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		n                   int
		fence, cont         bool
		saveName, out, skip string
		pendingSkip         string
		file                strings.Builder
		start               int
		joined              string
	)
	emit := func(line int, s string) {
		c := command{Line: line, Skip: skip}
		if m := trailingCmt.FindStringIndex(s); m != nil {
			c.Comment = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s[m[0]:]), "#"))
			s = s[:m[0]]
		}
		s = strings.TrimRight(s, " \t")
		if rest, ok := strings.CutSuffix(s, " &"); ok {
			c.Background = true
			s = strings.TrimRight(rest, " \t")
		}
		if rest, ok := strings.CutPrefix(s, "go run ./cmd/collide "); ok {
			s = "collide " + rest
		}
		c.Text = s
		doc.Commands = append(doc.Commands, c)
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if m := saveAs.FindStringSubmatch(line); m != nil {
			saveName = m[1]
		}
		if strings.HasPrefix(line, "```") {
			if fence {
				fence = false
				if out != "" {
					doc.Files[out] = file.String()
					out = ""
				}
				skip = ""
				continue
			}
			fence = true
			file.Reset()
			skip, pendingSkip = pendingSkip, ""
			if saveName != "" && strings.Contains(line, "yaml") {
				out, saveName = saveName, ""
			}
			continue
		}
		if !fence {
			if m := skipMarker.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				pendingSkip = m[1]
			} else if strings.TrimSpace(line) != "" {
				pendingSkip = ""
			}
			continue
		}
		if out != "" {
			file.WriteString(line)
			file.WriteByte('\n')
		}
		if cont {
			l, c := strings.CutSuffix(line, `\`)
			joined += " " + l
			if !c && !openQuote(joined) {
				emit(start, joined)
				cont = false
			}
			continue
		}
		if cmdStart.MatchString(line) {
			start = n
			l, c := strings.CutSuffix(line, `\`)
			joined = l
			if c || openQuote(l) {
				cont = true
				continue
			}
			emit(start, joined)
		}
	}
	if err := sc.Err(); err != nil {
		return document{}, fmt.Errorf("read document: %w", err)
	}
	return doc, nil
}

// wantExit is the exit codes a command may end with: the code its comment
// names ("# … exit 1"), else 0 or 1 (an invariant failed or a regression
// was called: a result, which the output must show).
func (c command) wantExit() []int {
	if m := exitComment.FindStringSubmatch(c.Comment); m != nil {
		code, _ := strconv.Atoi(m[1])
		return []int{code}
	}
	return []int{0, 1}
}
