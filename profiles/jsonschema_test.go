package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/collide-dev/collide/chaos/fault"
)

// schemaCopy is the checked-in copy of the schema, referenced from
// docs/profiles.md for editors.
var schemaCopy = filepath.Join("..", "docs", "profile.schema.json")

// TestJSONSchemaGolden: docs/profile.schema.json is what `collide schema`
// prints (go test ./profiles -run TestJSONSchemaGolden -update rewrites it).
func TestJSONSchemaGolden(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaCopy, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaCopy)
	if err != nil {
		t.Fatalf("%v (go test ./profiles -run TestJSONSchemaGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with the Go types: go test ./profiles -run TestJSONSchemaGolden -update", schemaCopy)
	}
}

// compileSchema compiles the generated schema with an independent
// validator (santhosh-tekuri/jsonschema, draft 2020-12).
func compileSchema(t *testing.T) *sjs.Schema {
	t.Helper()
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := sjs.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// yamlInstance turns a YAML profile into the JSON value an editor's YAML
// language server checks against the schema (anchors and merge keys
// resolved).
func yamlInstance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := sjs.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestProfilesMatchSchema: every built-in profile and every profile under
// testdata/profiles (and its folders) that collide loads is valid against the schema, and
// profiles with a misspelt field or a value of the wrong shape are not —
// including the short forms (burst: 8, keys: [7, 9], a setup step as SQL
// text), which must be accepted.
func TestProfilesMatchSchema(t *testing.T) {
	s := compileSchema(t)
	files := map[string][]byte{}
	builtins, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	for _, f := range builtins {
		data, err := builtinFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files[f] = data
	}
	// The DSNs the test profiles read from the environment.
	t.Setenv("COLLIDE_TEST_DSN", "postgres://collide:collide@127.0.0.1:5432/collide")
	t.Setenv("COLLIDE_TEST_SQLITE", filepath.Join(t.TempDir(), "x.db"))
	var local []string
	err := filepath.WalkDir(filepath.Join("..", "testdata", "profiles"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			local = append(local, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range local {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(f, data, nil); err != nil {
			if !strings.HasPrefix(filepath.Base(f), "malformed") {
				t.Errorf("%v", err)
			}
			continue // malformed on purpose
		}
		files[f] = data
	}
	if len(builtins) < 10 || len(files) < len(builtins)+3 {
		t.Fatalf("only %d profiles (%d built-in)", len(files), len(builtins))
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(yamlInstance(t, data)); err != nil {
				t.Fatalf("valid for collide but not for the schema:\n%v", err)
			}
		})
	}

	const base = `
name: short-forms
target: {demo: {mode: racy}}
database: {driver: sqlite}
setup:
  - DELETE FROM counters
  - {name: login, request: {method: POST, url: /login}, capture: {token: data.token}}
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 200/s
    duration: 2s
    keys: 5
    burst: 8
  - name: incr2
    request: {method: POST, url: "/counters/{{key}}/increment"}
    rate: 300
    duration: 1m30s
    keys: [7, 9, 12]
    burst: {copies: 8, sync: last-byte}
  - name: incr3
    request: {method: POST, url: "/counters/{{key}}/increment"}
    rate: 10/s
    duration: 1s
    keys: {from: 1, to: 100}
    retry: {max: 2, backoff: 10ms}
    ramp_to: 10/100ms
  - name: incr4
    request: {method: POST, url: /counters/1/increment}
    rate: max
    requests: 10
    outcome: {ok: [200, 2xx], fail: [409, 400-499]}
invariants:
  - name: counted
    query: SELECT value FROM counters WHERE id = 1
    expect: value >= 0
  - name: all counted
    check: counter
    query: SELECT value FROM counters WHERE id = 1
    op: incr4
  - name: unique
    unique: SELECT id FROM counters
x-anchors: {anything: 1}
`
	for _, tc := range []struct {
		name, yaml string
		valid      bool
	}{
		{name: "short forms", yaml: base, valid: true},
		{name: "misspelt field", yaml: strings.Replace(base, "rate: 200/s", "rat: 200/s", 1)},
		{name: "misspelt top-level field", yaml: base + "settel: 1s\n"},
		{name: "burst as text", yaml: strings.Replace(base, "burst: 8", "burst: eight", 1)},
		{name: "burst too large", yaml: strings.Replace(base, "burst: 8", "burst: 5000", 1)},
		{name: "bad duration", yaml: strings.Replace(base, "duration: 2s", "duration: 2 seconds", 1)},
		{name: "bad rate", yaml: strings.Replace(base, "rate: 200/s", "rate: fast", 1)},
		{name: "missing name", yaml: strings.Replace(base, "name: short-forms\n", "", 1)},
		{name: "unknown driver", yaml: strings.Replace(base, "driver: sqlite", "driver: oracle", 1)},
		{name: "lower-case method", yaml: strings.Replace(base, "method: POST", "method: post", 1)},
		{name: "bad status", yaml: strings.Replace(base, "ok: [200, 2xx]", "ok: [200, 2xxx]", 1)},
		{name: "keys as text", yaml: strings.Replace(base, "keys: 5", "keys: five", 1)},
		{name: "faults with their own fields", yaml: base + "chaos:\n  - {link: target, fault: latency, latency: 10ms, jitter: 2ms}\n  - {link: target, fault: reset_peer, timeout: 1s, toxicity: 0.1}\n", valid: true},
		{name: "fault with a field of another kind", yaml: base + "chaos:\n  - {link: target, fault: reset_peer, latency: 10ms}\n"},
		{name: "fault without its required field", yaml: base + "chaos:\n  - {link: target, fault: bandwidth}\n"},
		{name: "unknown fault", yaml: base + "chaos:\n  - {link: target, fault: packet_loss}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(yamlInstance(t, []byte(tc.yaml)))
			if _, perr := Parse("x.yaml", []byte(tc.yaml), nil); (perr == nil) != tc.valid {
				t.Fatalf("collide's loader disagrees with the case: %v", perr)
			}
			switch {
			case tc.valid && err != nil:
				t.Fatalf("rejected by the schema: %v", err)
			case !tc.valid && err == nil:
				t.Fatal("accepted by the schema")
			}
		})
	}
}

// fieldPaths lists every field of the profile format as a dotted YAML
// path (operations.burst.copies), walking the Go types.
func fieldPaths(t reflect.Type, prefix string, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[Rate]() || seen[t] {
		return nil
	}
	seen[t] = true
	defer delete(seen, t)
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		out = append(out, p)
		out = append(out, fieldPaths(f.Type, p, seen)...)
	}
	return out
}

// schemaHas reports whether the schema describes the dotted path.
func schemaHas(root map[string]any, path string) bool {
	defs := root["$defs"].(map[string]any)
	var resolve func(s map[string]any) []map[string]any
	resolve = func(s map[string]any) []map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return resolve(defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any))
		}
		if items, ok := s["items"].(map[string]any); ok {
			return resolve(items)
		}
		out := []map[string]any{s}
		for _, k := range []string{"oneOf", "anyOf"} {
			if alts, ok := s[k].([]any); ok {
				for _, a := range alts {
					out = append(out, resolve(a.(map[string]any))...)
				}
			}
		}
		return out
	}
	cur := resolve(root)
	for _, seg := range strings.Split(path, ".") {
		var next []map[string]any
		for _, s := range cur {
			if props, ok := s["properties"].(map[string]any); ok {
				if p, ok := props[seg].(map[string]any); ok {
					next = append(next, resolve(p)...)
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		cur = next
	}
	return true
}

// docFieldRows reads the field tables of docs/profiles.md (those whose
// header starts "| field | type | default |"): the names of the first
// column (`a`, `b` for a row naming two) → the default column.
func docFieldRows(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join("..", "docs", "profiles.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	inTable := false
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[1] == "field" && cells[3] == "default" {
			inTable = true
			continue
		}
		if !inTable || strings.HasPrefix(cells[1], "---") {
			continue
		}
		for _, name := range strings.Split(cells[1], ",") {
			rows[strings.Trim(strings.TrimSpace(name), "`")] = cells[3]
		}
	}
	return rows
}

// TestEveryFieldInSchemaAndDocs: every field of the Go types is in the
// schema and has a row in a field table of docs/profiles.md (named by its
// full path or a dotted suffix of it, e.g. burst.copies), with its default
// written down (a value, "none", "required", …, never blank).
func TestEveryFieldInSchemaAndDocs(t *testing.T) {
	b, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	rows := docFieldRows(t)
	paths := fieldPaths(reflect.TypeFor[Profile](), "", map[reflect.Type]bool{})
	for _, name := range fault.Names() { // the fault kinds' own fields
		k, _ := fault.Lookup(name)
		for _, f := range k.Fields() {
			paths = append(paths, "chaos."+f)
		}
	}
	if len(paths) < 100 {
		t.Fatalf("only %d field paths", len(paths))
	}
	var missingSchema, missingDocs, noDefault []string
	for _, p := range paths {
		if !schemaHas(root, p) {
			missingSchema = append(missingSchema, p)
		}
		segs := strings.Split(p, ".")
		found := false
		for i := range segs {
			if def, ok := rows[strings.Join(segs[i:], ".")]; ok {
				found = true
				if def == "" {
					noDefault = append(noDefault, p)
				}
				break
			}
		}
		if !found {
			missingDocs = append(missingDocs, p)
		}
	}
	for _, m := range []struct {
		what  string
		paths []string
	}{
		{"missing from the schema", missingSchema},
		{"missing from docs/profiles.md's field tables", missingDocs},
		{"without a default in docs/profiles.md", noDefault},
	} {
		if len(m.paths) > 0 {
			slices.Sort(m.paths)
			t.Errorf("%d field(s) %s:\n%s", len(m.paths), m.what, strings.Join(m.paths, "\n"))
		}
	}
	_ = fmt.Sprint()
}
