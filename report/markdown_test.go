package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/invariants"
)

func TestMarkdownEscaping(t *testing.T) {
	for _, tc := range []struct {
		name, in, text, code string
	}{
		{"plain", "counter", "counter", "`counter`"},
		{"pipes", "a|b", `a\|b`, "`a\\|b`"},
		{"html", "<script>x</script>", `\<script\>x\</script\>`, "`<script>x</script>`"},
		{"emphasis and links", "*a* _b_ [c](d)", `\*a\* \_b\_ \[c\](d)`, "`*a* _b_ [c](d)`"},
		{"entities", "&amp;", `\&amp;`, "`&amp;`"},
		{"backticks", "a`b", "a\\`b", "``a`b``"},
		{"leading backtick", "`a", "\\`a", "`` `a ``"},
		{"lines", "one\ntwo\n", "one<br>two", "`one`<br>`two`"},
		{"empty", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdText(tc.in); got != tc.text {
				t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.text)
			}
			if got := mdCode(tc.in); got != tc.code {
				t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
			}
		})
	}
}

// TestMarkdownTableCells: hostile text stays inside its cell: every table
// line has the same number of unescaped pipes.
func TestMarkdownTableCells(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &Result{Schema: SchemaVersion, Started: start, Finished: start, Verdict: Fail, Profile: ProfileInfo{Name: "p|q"},
		Invariants: []invariants.Result{{Name: "a | b\nc", Verdict: invariants.Fail, Expected: "x || y", Actual: "`|`", Evidence: []string{"row|1", "row\n2"}}}}
	var b bytes.Buffer
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		if n := strings.Count(line, "|") - strings.Count(line, `\|`); n != 5 {
			t.Errorf("%d cell separators in %q, want 5", n, line)
		}
	}
}

func TestReplayCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    ProfileInfo
		want string
	}{
		{"builtin", ProfileInfo{Name: "counter", File: "builtin/counter.yaml"}, "collide run -seed 7 counter"},
		{"file with overrides", ProfileInfo{Name: "x", File: "my profiles/x.yaml", Overrides: []string{"target.demo.mode=safe", "chaos=[{link: target}]", "a='b'"}},
			`collide run -seed 7 -set target.demo.mode=safe -set 'chaos=[{link: target}]' -set 'a='\''b'\''' 'my profiles/x.yaml'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReplayCommand(&Result{Seed: 7, Profile: tc.p}); got != tc.want {
				t.Fatalf("ReplayCommand = %s\nwant            %s", got, tc.want)
			}
		})
	}
}
