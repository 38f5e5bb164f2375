package profiles

import (
	"strings"
	"testing"
)

// TestCheckerFields: the fields an invariant does not declare are kept for
// its checker, which decodes them strictly into its own struct, with the
// file, line and field path (or the --set override) in every error.
func TestCheckerFields(t *testing.T) {
	const doc = `name: fields
target: {demo: {mode: safe}}
database: {driver: sqlite}
operations:
  - {name: incr, request: {method: POST, url: /counters/1/increment}, duration: 1s}
invariants:
  - name: toy
    check: toy
    op: incr
    limit: 3
    of: incr
    wait: 2s
`
	type toyFields struct {
		Limit int      `yaml:"limit"`
		Of    OpName   `yaml:"of"`
		Wait  Duration `yaml:"wait"`
	}
	for _, tc := range []struct {
		name string
		sets []string
		want string // "" for no error
	}{
		{name: "decodes"},
		{name: "unknown field, close to one", sets: []string{"invariants[0].limt=3"}, want: `fields.yaml: --set invariants[0].limt: unknown field (did you mean "limit"?)`},
		{name: "unknown field, close to a common one", sets: []string{"invariants[0].thin=x"}, want: `did you mean "thing"?`},
		{name: "unknown field", sets: []string{"invariants[0].ttl=1s"}, want: `fields.yaml: --set invariants[0].ttl: ttl is not read by checker toy (its own fields: limit, of, wait)`},
		{name: "wrong type from --set", sets: []string{"invariants[0].limit=many"}, want: `fields.yaml: --set invariants[0].limit: want an integer, got "many"`},
		{name: "unknown operation", sets: []string{"invariants[0].of=incrr"}, want: `fields.yaml: --set invariants[0].of: unknown operation "incrr" (did you mean "incr"? operations: incr)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("fields.yaml", []byte(doc), tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			inv := p.Invariants[0]
			var f toyFields
			err = inv.Fields.Decode("toy", &f)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %s", err, tc.want)
				}
				return
			}
			if err != nil || f.Limit != 3 || f.Of != "incr" || f.Wait.String() != "2s" {
				t.Fatalf("decoded %+v, %v", f, err)
			}
			if got := strings.Join(inv.Fields.Names(), ","); got != "limit,of,wait" || !inv.Fields.Has("of") || inv.Fields.Text("limit") != "3" || inv.Fields.Has("op") {
				t.Errorf("Names %s, Has, Text wrong", got)
			}
			if e := inv.Fields.Errorf("wait", "too long"); e.Error() != "fields.yaml:12: invariants[0].wait: too long" {
				t.Errorf("Errorf = %v", e)
			}
			if e := inv.Fields.Errorf("", "no"); e.Error() != "fields.yaml:7: invariants[0]: no" {
				t.Errorf("Errorf on the invariant = %v", e)
			}
		})
	}
	built := Invariant{Name: "built in code", Fields: NewCheckerFields(map[string]any{"limit": 2, "wait": Duration(5e8)})}
	var f toyFields
	if err := built.Fields.Decode("toy", &f); err != nil || f.Limit != 2 || f.Wait.String() != "500ms" {
		t.Fatalf("NewCheckerFields: %+v, %v", f, err)
	}
	if err := (Invariant{}).Fields.Decode("toy", &f); err != nil {
		t.Fatalf("no fields: %v", err)
	}
}
