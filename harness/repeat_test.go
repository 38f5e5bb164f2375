package harness

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/report"
)

// favoritesProfile logs in, creates 20 resources with one repeated setup
// step, and bursts first-or-create favorites at them: keys from the
// repeated step's captures, {{key}} the real row ids.
const favoritesProfile = `
name: favorites
target:
  demo: {mode: racy}
database:
  driver: sqlite
setup:
  - DELETE FROM favorites
  - name: login
    request: {method: POST, url: /login, body: '{"user": "ann"}'}
    capture: {token: token}
  - name: create
    request:
      method: POST
      url: /resources
      headers: {Authorization: "Bearer {{token}}"}
      body: '{"name": "r{{seq}}"}'
    repeat: 20
    capture: {resource: id}
operations:
  - name: favorite
    request:
      method: POST
      url: /resources/{{key}}/favorite
      headers: {Authorization: "Bearer {{token}}"}
    keys: {capture: resource}
    burst: {copies: 30, sync: last-byte}   # as the built-in first-or-create: 20/20 racy runs caught
    bursts: 20
    rate: 20/s
    duration: 1s
invariants:
  - name: one favorite per resource and user
    unique: SELECT resource_id, user_id FROM favorites
`

// TestRepeatedSetupStepGivesKeys: a repeated setup step makes one resource
// per key; the operation's keys are their ids; the first-or-create race is
// caught racy and not safe.
func TestRepeatedSetupStepGivesKeys(t *testing.T) {
	for _, mode := range []string{"racy", "safe"} {
		t.Run(mode, func(t *testing.T) {
			out := t.TempDir()
			res, err := Run(context.Background(), Options{Profile: parse(t, favoritesProfile, "target.demo.mode="+mode), OutDir: out})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]report.Verdict{"racy": report.Fail, "safe": report.Pass}[mode]
			if res.Verdict != want {
				t.Fatalf("verdict %s, want %s: %+v", res.Verdict, want, res.Invariants)
			}
			ops, err := history.ReadAll(filepath.Join(out, HistoryFile))
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]bool{}
			for _, op := range ops {
				keys[op.Key] = true
			}
			got := slices.Sorted(func(yield func(string) bool) {
				for k := range keys {
					if !yield(k) {
						return
					}
				}
			})
			if len(got) < 2 || len(got) > 20 || strings.HasPrefix(got[0], "key-") {
				t.Fatalf("op keys %v: want up to 20 resource ids captured by the repeated step", got)
			}
		})
	}
}
