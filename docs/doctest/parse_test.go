package doctest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		md        string
		wantCmds  []command
		wantFiles map[string]string
	}{
		{
			name:     "only fenced collide lines",
			md:       "collide list\n```sh\ncollide list\nls\n  collide run x\n```\n",
			wantCmds: []command{{Line: 3, Text: "collide list"}},
		},
		{
			name:     "comment and background",
			md:       "```sh\ncollide demo &       # serve it\ncollide audit   # racy demo: FAIL, exit 1\n```\n",
			wantCmds: []command{{Line: 2, Text: "collide demo", Comment: "serve it", Background: true}, {Line: 3, Text: "collide audit", Comment: "racy demo: FAIL, exit 1"}},
		},
		{
			name:     "go run spelled collide",
			md:       "```sh\ngo run ./cmd/collide run counter\n```\n",
			wantCmds: []command{{Line: 2, Text: "collide run counter"}},
		},
		{
			name:     "continuations and an open quote",
			md:       "```sh\ncollide run a \\\n  -set x=1\ncollide run b -set 'chaos=[{a: 1},\n  {b: 2}]'\n```\n",
			wantCmds: []command{{Line: 2, Text: "collide run a    -set x=1"}, {Line: 4, Text: "collide run b -set 'chaos=[{a: 1},   {b: 2}]'"}},
		},
		{
			name:      "save it as",
			md:        "Save it as `shop.yaml`:\n\n```yaml\nname: shop\n```\n```yaml\nname: other\n```\n",
			wantFiles: map[string]string{"shop.yaml": "name: shop\n"},
		},
		{
			name:     "skip marker applies to the next fence only",
			md:       "<!-- doctest: skip (needs Docker) -->\n```sh\ncollide run a\n```\n\n```sh\ncollide run b\n```\n",
			wantCmds: []command{{Line: 3, Text: "collide run a", Skip: "needs Docker"}, {Line: 7, Text: "collide run b"}},
		},
		{
			name:     "a marker followed by prose is void",
			md:       "<!-- doctest: skip (x) -->\nSome text.\n```sh\ncollide run a\n```\n",
			wantCmds: []command{{Line: 4, Text: "collide run a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parse(strings.NewReader(tt.md))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(doc.Commands, tt.wantCmds) {
				t.Errorf("commands:\n got %+v\nwant %+v", doc.Commands, tt.wantCmds)
			}
			if tt.wantFiles == nil {
				tt.wantFiles = map[string]string{}
			}
			if !reflect.DeepEqual(doc.Files, tt.wantFiles) {
				t.Errorf("files: got %q, want %q", doc.Files, tt.wantFiles)
			}
		})
	}
}

func TestWantExit(t *testing.T) {
	tests := []struct {
		name    string
		comment string
		want    []int
	}{
		{"no comment: pass or a result", "", []int{0, 1}},
		{"exit 1 named", "racy demo: FAIL, exit 1", []int{1}},
		{"must exit 0", "same build: must exit 0", []int{0}},
		{"other comment", "the built-ins, one line each", []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (command{Comment: tt.comment}).wantExit(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
