package profiles

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// keysProfile is a profile whose operation ends with the keys field; the
// keys text starts on line 10.
const keysProfile = `name: keys
target: {demo: {mode: safe}}
database: {driver: sqlite}
invariants: [{name: n, expect: "true"}]
operations:
  - name: incr
    request: {method: POST, url: "/counters/{{key}}/increment"}
    duration: 1s
    workers: 2
`

func TestKeysForms(t *testing.T) {
	i64 := func(n int64) *int64 { return &n }
	cases := []struct {
		name   string
		keys   string   // YAML after "    keys:", or "" for none
		sets   []string // overrides
		want   Keys
		values []string // Values()
		text   string   // String()
		json   string
	}{
		{name: "absent is one key", want: Keys{Count: 1}, text: "1", json: `1`},
		{name: "null is one key", keys: " ~", want: Keys{Count: 1}, text: "1", json: `1`},
		{name: "count", keys: " 50", want: Keys{Count: 50}, text: "50", json: `50`},
		{name: "list of numbers", keys: " [1, 2, 3]", want: Keys{List: []string{"1", "2", "3"}}, values: []string{"1", "2", "3"}, text: "[1, 2, 3]", json: `["1","2","3"]`},
		{name: "list of text", keys: "\n      - alice\n      - \"bob smith\"\n      - 7", want: Keys{List: []string{"alice", "bob smith", "7"}}, values: []string{"alice", "bob smith", "7"}, text: "[alice, bob smith, 7]"},
		{name: "range", keys: " {from: 1, to: 3}", want: Keys{From: i64(1), To: i64(3)}, values: []string{"1", "2", "3"}, text: "{from: 1, to: 3}", json: `{"from":1,"to":3}`},
		{name: "negative range of one", keys: "\n      from: -2\n      to: -2", want: Keys{From: i64(-2), To: i64(-2)}, values: []string{"-2"}},
		{name: "query", keys: " {query: SELECT id FROM counters}", want: Keys{Query: "SELECT id FROM counters"}, text: `{query: "SELECT id FROM counters"}`, json: `{"query":"SELECT id FROM counters"}`},
		{name: "set count", keys: " [1, 2]", sets: []string{"operations[0].keys=5"}, want: Keys{Count: 5}},
		{name: "set list", sets: []string{"operations[0].keys=[a, b]"}, want: Keys{List: []string{"a", "b"}}, values: []string{"a", "b"}},
		{name: "set query", sets: []string{"operations[0].keys.query=SELECT id FROM t"}, want: Keys{Query: "SELECT id FROM t"}},
		{name: "set range bound", keys: " {from: 1, to: 3}", sets: []string{"operations[0].keys.to=4"}, want: Keys{From: i64(1), To: i64(4)}, values: []string{"1", "2", "3", "4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := keysProfile
			if c.keys != "" {
				src += "    keys:" + c.keys + "\n"
			}
			p, err := Parse("keys.yaml", []byte(src), c.sets)
			if err != nil {
				t.Fatal(err)
			}
			k := p.Operations[0].Keys
			if !equalJSON(k, c.want) || k.Count != c.want.Count || !slices.Equal(k.List, c.want.List) {
				t.Fatalf("keys = %#v, want %#v", k, c.want)
			}
			if got := k.Values(); !slices.Equal(got, c.values) {
				t.Errorf("Values() = %q, want %q", got, c.values)
			}
			if c.text != "" && k.String() != c.text {
				t.Errorf("String() = %q, want %q", k.String(), c.text)
			}
			b, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			if c.json != "" && string(b) != c.json {
				t.Errorf("JSON = %s, want %s", b, c.json)
			}
			var back Keys
			if err := json.Unmarshal(b, &back); err != nil || back.String() != k.String() || back.Count != k.Count {
				t.Errorf("JSON round trip: %#v (%v), want %#v", back, err, k)
			}
		})
	}
}

func TestKeysErrors(t *testing.T) {
	cases := []struct {
		name string
		keys string // YAML after "    keys:" (line 10)
		sets []string
		want string
	}{
		{"negative count", " -3", nil, "keys.yaml:10: operations[0].keys: must not be negative (got -3)"},
		{"count out of range", " 99999999999999999999", nil, "keys.yaml:10: operations[0].keys: 99999999999999999999 is out of range"},
		{"text", " many", nil, `keys.yaml:10: operations[0].keys: want a number of keys (e.g. 50), a list of keys, {from: 1, to: 100} or {query: SELECT id FROM items}, got "many"`},
		{"float", " 2.5", nil, `keys.yaml:10: operations[0].keys: want a number of keys (e.g. 50), a list of keys, {from: 1, to: 100} or {query: SELECT id FROM items}, got "2.5"`},
		{"empty list", " []", nil, "keys.yaml:10: operations[0].keys: an empty list: want at least one key (or leave keys out for one key)"},
		{"list item a mapping", "\n      - 1\n      - {id: 2}", nil, "keys.yaml:10: operations[0].keys: item 1 (line 12): want a key (a number or text), got a mapping, got a list"},
		{"list item null", " [1, ~]", nil, "keys.yaml:10: operations[0].keys: item 1 (line 10): want a key (a number or text), got null, got a list"},
		{"duplicate list item", "\n      - 1\n      - 2\n      - 1", nil, `keys.yaml:10: operations[0].keys[2]: duplicate key "1" (first at item 0)`},
		{"empty list item", ` [a, ""]`, nil, `keys.yaml:10: operations[0].keys[1]: a key may not be empty`},
		{"from above to", "\n      from: 10\n      to: 1", nil, "keys.yaml:12: operations[0].keys.to: 1 is below from (10): the range is empty"},
		{"from without to", " {from: 1}", nil, "keys.yaml:10: operations[0].keys.to: required with from (keys: {from: 1, to: 100})"},
		{"to without from", "\n      to: 5", nil, "keys.yaml:10: operations[0].keys.from: required with to (keys: {from: 1, to: 100})"},
		{"range too large", " {from: 1, to: 100001}", nil, "keys.yaml:10: operations[0].keys: 1 to 100001 holds more than 100000 keys (the limit)"},
		{"range overflowing int64", " {from: -9223372036854775808, to: 9223372036854775807}", nil, "keys.yaml:10: operations[0].keys: -9223372036854775808 to 9223372036854775807 holds more than 100000 keys (the limit)"},
		{"range bound not an integer", "\n      from: 1\n      to: ten", nil, `keys.yaml:12: operations[0].keys.to: want an integer, got "ten"`},
		{"range and query", " {from: 1, to: 2, query: SELECT 1}", nil, "keys.yaml:10: operations[0].keys: set from and to, or query, not both"},
		{"empty query", "\n      query: \"\"", nil, "keys.yaml:11: operations[0].keys.query: empty: want SQL whose first column gives the keys, e.g. SELECT id FROM items"},
		{"unknown field", "\n      from: 1\n      too: 2", nil, `keys.yaml:12: operations[0].keys.too: unknown field (did you mean "to"?)`},
		{"duplicate field", " {from: 1, from: 2, to: 3}", nil, "keys.yaml:10: operations[0].keys.from: duplicate field (first at line 10)"},
		{"set negative", " 5", []string{"operations[0].keys=-1"}, "keys.yaml: --set operations[0].keys: must not be negative (got -1)"},
		{"set range reversed", " {from: 1, to: 3}", []string{"operations[0].keys.from=4"}, "keys.yaml:10: operations[0].keys.to: 3 is below from (4): the range is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("keys.yaml", []byte(keysProfile+"    keys:"+c.keys+"\n"), c.sets)
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != c.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, c.want)
			}
		})
	}
	// A list longer than MaxKeys.
	long := " [" + strings.Repeat("1, ", MaxKeys) + "1]"
	_, err := Parse("keys.yaml", []byte(keysProfile+"    keys:"+long+"\n"), nil)
	if want := "keys.yaml:10: operations[0].keys: 100001 keys, above the limit of 100000, got a list"; err == nil || err.Error() != want {
		t.Errorf("long list: %v, want %s", err, want)
	}
}
