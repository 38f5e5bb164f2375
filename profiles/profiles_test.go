package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./profiles -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", path, got, want)
	}
}

// directives reads the test directives at the top of a bad profile:
//
//	# set: path=value      a --set override
//	# env: NAME=value      an environment variable
//	# unset: NAME          an environment variable that must be unset
func directives(t *testing.T, data []byte) (sets []string) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "# set: "), line == "# set:":
			sets = append(sets, strings.TrimPrefix(strings.TrimPrefix(line, "# set:"), " "))
		case strings.HasPrefix(line, "# env: "):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, "# env: "), "=")
			t.Setenv(k, v)
		case strings.HasPrefix(line, "# unset: "):
			k := strings.TrimPrefix(line, "# unset: ")
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	return sets
}

// TestBadProfiles parses every testdata/bad-profiles/*.yaml (except run-*,
// which only the harness can reject) and compares the error
// with its .golden file: one line naming the file, line and field.
func TestBadProfiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/bad-profiles/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d bad profiles", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if strings.HasPrefix(name, "run-") {
			continue // valid to this package; the run's own checks reject it (cmd/collide's TestBadProfiles)
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sets := directives(t, data)
			file := filepath.Base(f)
			p, err := Parse(file, data, sets)
			if err == nil {
				t.Fatalf("no error; parsed %+v", p)
			}
			if p != nil {
				t.Errorf("profile returned with error %v", err)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if perr.File != file {
				t.Errorf("File = %q, want %q", perr.File, file)
			}
			fromSet := strings.HasPrefix(perr.Field, "--set")
			switch {
			case fromSet && perr.Line != 0:
				t.Errorf("--set error has line %d", perr.Line)
			case !fromSet && perr.Line == 0 && name != "empty":
				t.Errorf("error has no line: %s", msg)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", []byte(msg+"\n"))
		})
	}
}

// clearTestEnv makes sure the variables the good profiles use are unset.
func clearTestEnv(t *testing.T) {
	for _, k := range []string{"COLLIDE_TEST_DURATION", "COLLIDE_TEST_WORKERS", "COLLIDE_TEST_DIR"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// TestGoodProfiles parses every testdata/good/*.yaml, compares the result
// (defaults filled) with its .json golden file, and checks that the profile
// survives a round trip through YAML.
func TestGoodProfiles(t *testing.T) {
	clearTestEnv(t)
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no good profiles", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			p, err := Load(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.File() != f {
				t.Errorf("File() = %q", p.File())
			}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".json", append(got, '\n'))

			out, err := yaml.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Parse("roundtrip.yaml", out, nil)
			if err != nil {
				t.Fatalf("re-parsing the marshalled profile: %v\n%s", err, out)
			}
			again, _ := json.MarshalIndent(q, "", "  ")
			if !bytes.Equal(got, again) {
				t.Errorf("round trip changed the profile:\n%s\n---\n%s", got, again)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	clearTestEnv(t)
	p, err := Load("testdata/good/minimal.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := p.Operations[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", p.Version, 1},
		{"workers", o.Workers, 16},
		{"max_workers", o.MaxWorkers, 64},
		{"timeout", o.Timeout.D(), 5 * time.Second},
		{"keepalive", o.KeepAliveOn(), true},
		{"keys", o.Keys, 1},
		{"outcome.ok", o.Outcome.OK, []string{"2xx"}},
		{"outcome.fail", o.Outcome.Fail, []string{"4xx"}},
		{"settle", p.Settle.D(), 200 * time.Millisecond},
		{"demo.think", p.Target.Demo.Think.D(), time.Duration(0)},
		{"max_unknown", p.Verdict.MaxUnknownValue(), 0.5},
		{"invariant check", p.Invariants[0].Check, ""}, // inferred by invariants.CheckName
		{"rate", o.Rate.Max(), true},
		{"budget", o.Budget(), MaxRequests},
	}
	for _, c := range checks {
		if !equalJSON(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	big, err := Parse("big.yaml", []byte(strings.Replace(string(mustRead(t, "testdata/good/minimal.yaml")), "duration: 1s", "duration: 1s\n    workers: 40\n    rate: 10/100ms", 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := big.Operations[0].MaxWorkers; got != 160 {
		t.Errorf("max_workers for 40 workers = %d, want 160", got)
	}
	if got := big.Operations[0].Budget(); got != 100 {
		t.Errorf("budget of 10/100ms for 1s = %d, want 100", got)
	}

	full, err := Load("testdata/good/full.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range full.Chaos {
		if i != 0 && f.Stream != "downstream" {
			t.Errorf("chaos[%d].stream = %q, want downstream", i, f.Stream)
		}
		if want := map[int]float64{1: 0.05}[i]; want != 0 && f.ToxicityValue() != want || want == 0 && f.ToxicityValue() != 1 {
			t.Errorf("chaos[%d].toxicity = %v", i, f.ToxicityValue())
		}
	}
	if full.Chaos[0].Stream != "upstream" {
		t.Errorf("chaos[0].stream = %q", full.Chaos[0].Stream)
	}
	if full.Operations[0].KeepAliveOn() {
		t.Error("keepalive: false was lost")
	}

	// Accessors on a profile built in code give the same defaults.
	var zero Operation
	if !zero.KeepAliveOn() || (Fault{}).ToxicityValue() != 1 || (VerdictPolicy{}).MaxUnknownValue() != 0.5 {
		t.Error("accessor defaults wrong")
	}
	if !zero.Outcome.OKSet().Has(204) || !zero.Outcome.FailSet().Has(409) || zero.Outcome.FailSet().Has(500) {
		t.Error("default outcome sets wrong")
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const lineProfile = `name: lines
target:
  demo: {mode: racy}
database:
  driver: sqlite
chaos:
  - {link: database, fault: latency, latency: 20ms}
  - link: target
    fault: reset_peer
operations:
  - name: incr
    request:
      method: POST
      url: /counters/1/increment
      headers: {X-Token: abc}
    rate: 200/s
    duration: 2s
invariants:
  - name: counted
    expect: ok("incr") >= 0
`

func TestLine(t *testing.T) {
	p, err := Parse("lines.yaml", []byte(lineProfile), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field string
		want  int
	}{
		{"name", 1},
		{"target", 2},
		{"target.demo", 3},
		{"target.demo.mode", 3},
		{"chaos", 6},
		{"chaos[0]", 7},
		{"chaos[0].latency", 7},
		{"chaos[1]", 8},
		{"chaos[1].link", 8},
		{"chaos[1].fault", 9},
		{"operations[0]", 11},
		{"operations[0].request.url", 14},
		{"operations[0].request.headers.X-Token", 15},
		{"operations[0].rate", 16},
		{"invariants[0].expect", 20},
		{"chaos[1].toxicity", 0}, // defaulted, not in the file
		{"nope", 0},
		{"operations[7]", 0},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			if got := p.Line(c.field); got != c.want {
				t.Errorf("Line(%q) = %d, want %d", c.field, got, c.want)
			}
		})
	}

	errCases := []struct {
		field, want string
	}{
		{"chaos[1].fault", `lines.yaml:9: chaos[1].fault: unknown fault kind "reset_peer"`},
		{"chaos[1].toxicity", `lines.yaml:8: chaos[1].toxicity: unknown fault kind "reset_peer"`}, // falls back to the item
		{"invariants[0].expect", `lines.yaml:20: invariants[0].expect: unknown fault kind "reset_peer"`},
		{"", `lines.yaml:1: unknown fault kind "reset_peer"`},
	}
	for _, c := range errCases {
		if got := p.Errorf(c.field, "unknown fault kind %q", "reset_peer").Error(); got != c.want {
			t.Errorf("Errorf(%q) = %s, want %s", c.field, got, c.want)
		}
	}

	var code Profile // built in code: no file, no lines
	if code.Line("name") != 0 || code.File() != "" || code.Hash() != "" {
		t.Error("zero Profile has source data")
	}
	if got := code.Errorf("name", "bad").Error(); got != "name: bad" {
		t.Errorf("Errorf on zero Profile = %q", got)
	}
}

func TestOverrides(t *testing.T) {
	base := []byte(lineProfile)
	plain, err := Parse("lines.yaml", base, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		sets  []string
		check func(p *Profile) bool
		field string // overridden field: Line 0 and Errorf names --set
	}{
		{"mode", []string{"target.demo.mode=safe"}, func(p *Profile) bool { return p.Target.Demo.Mode == "safe" }, "target.demo.mode"},
		{"slowdown", []string{"target.demo.slowdown=0.3"}, func(p *Profile) bool { return p.Target.Demo.Slowdown == 0.3 }, "target.demo.slowdown"},
		{"rate", []string{"operations[0].rate=50/s"}, func(p *Profile) bool { return p.Operations[0].Rate == Rate{50, time.Second} }, "operations[0].rate"},
		{"toxicity", []string{"chaos[1].toxicity=0.2"}, func(p *Profile) bool { return p.Chaos[1].ToxicityValue() == 0.2 }, "chaos[1].toxicity"},
		{"spaces", []string{" operations[0].workers = 7"}, func(p *Profile) bool { return p.Operations[0].Workers == 7 }, "operations[0].workers"},
		{"new key", []string{"database.dsn=/tmp/x.db"}, func(p *Profile) bool { return p.Database.DSN == "/tmp/x.db" }, "database.dsn"},
		{"new section", []string{"verdict.max_unknown=0.1"}, func(p *Profile) bool { return p.Verdict.MaxUnknownValue() == 0.1 }, "verdict.max_unknown"},
		{"header", []string{"operations[0].request.headers.X-Token=xyz"}, func(p *Profile) bool { return p.Operations[0].Request.Headers["X-Token"] == "xyz" }, "operations[0].request.headers.X-Token"},
		{"flow list", []string{"operations[0].outcome.ok=[2xx, 409]"}, func(p *Profile) bool { return p.Operations[0].Outcome.OKSet().Has(409) }, "operations[0].outcome.ok"},
		{"flow mapping", []string{"target={url: 'http://localhost:9000'}", "database.dsn=/tmp/db"}, func(p *Profile) bool { return p.Target.URL == "http://localhost:9000" && p.Target.Demo == nil }, "target.url"},
		{"replace list", []string{"chaos=[]"}, func(p *Profile) bool { return len(p.Chaos) == 0 }, "chaos"},
		{"empty value", []string{"about="}, func(p *Profile) bool { return p.About == "" }, "about"},
		{"env in value", []string{"about=${COLLIDE_TEST_ABOUT:-from default}"}, func(p *Profile) bool { return p.About == "from default" }, "about"},
		{"later wins", []string{"operations[0].keys=2", "operations[0].keys=3"}, func(p *Profile) bool { return p.Operations[0].Keys.Count == 3 }, "operations[0].keys"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse("lines.yaml", base, c.sets)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(p) {
				t.Errorf("override not applied: %+v", p)
			}
			if l := p.Line(c.field); l != 0 {
				t.Errorf("Line(%q) = %d, want 0 for an override", c.field, l)
			}
			if got, want := p.Errorf(c.field, "x").Error(), "lines.yaml: --set "+c.field+": x"; got != want {
				t.Errorf("Errorf = %q, want %q", got, want)
			}
			if p.Hash() == plain.Hash() {
				t.Error("hash unchanged by override")
			}
			if p.Line("name") != 1 {
				t.Error("lines of other fields lost")
			}
		})
	}

	// Overriding a value reached through an alias changes that use only.
	shared := []byte(`x-op: &op
  request: {method: GET, url: /a}
  duration: 1s
name: shared
target: {demo: {mode: racy}}
database: {driver: sqlite}
operations:
  - <<: *op
    name: a
  - <<: *op
    name: b
invariants: [{name: n, expect: "true"}]
`)
	p, err := Parse("shared.yaml", shared, []string{"operations[1].request.url=/b"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Operations[0].Request.URL != "/a" || p.Operations[1].Request.URL != "/b" || p.Operations[1].Request.Method != "GET" {
		t.Errorf("merge override: %+v", p.Operations)
	}
}

func TestHash(t *testing.T) {
	data := []byte(lineProfile)
	a, err := Parse("a.yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse("b.yaml", data, nil)
	if len(a.Hash()) != 64 || a.Hash() != b.Hash() {
		t.Errorf("hash %q vs %q", a.Hash(), b.Hash())
	}
	s1, _ := Parse("a.yaml", data, []string{"operations[0].rate=10/s"})
	s2, _ := Parse("a.yaml", data, []string{"operations[0].rate=10/s"})
	s3, _ := Parse("a.yaml", data, []string{"operations[0].rate=20/s"})
	if s1.Hash() != s2.Hash() || s1.Hash() == s3.Hash() || s1.Hash() == a.Hash() {
		t.Error("override hashes not deterministic and distinct")
	}
	// ${ENV} values do not enter the hash.
	env := []byte(strings.Replace(lineProfile, "name: lines", "name: ${COLLIDE_TEST_NAME:-lines}", 1))
	t.Setenv("COLLIDE_TEST_NAME", "one")
	e1, err := Parse("e.yaml", env, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("COLLIDE_TEST_NAME", "two")
	e2, _ := Parse("e.yaml", env, nil)
	if e1.Name != "one" || e2.Name != "two" || e1.Hash() != e2.Hash() {
		t.Errorf("env: %s %s %s %s", e1.Name, e2.Name, e1.Hash(), e2.Hash())
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"HOST": "db", "EMPTY": "", "PORT": "5432"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct {
		name, in, want, err string
	}{
		{"plain", "no refs", "no refs", ""},
		{"var", "${HOST}:${PORT}", "db:5432", ""},
		{"default unused", "${HOST:-x}", "db", ""},
		{"default unset", "${NOPE:-fallback}", "fallback", ""},
		{"default empty", "${EMPTY:-fallback}", "fallback", ""},
		{"empty set", "[${EMPTY}]", "[]", ""},
		{"empty default", "${NOPE:-}", "", ""},
		{"escape", "costs $$5", "costs $5", ""},
		{"escaped ref", "$${HOST}", "${HOST}", ""},
		{"escape then ref", "$$${HOST}", "$db", ""},
		{"sql placeholder", "WHERE id = $1", "WHERE id = $1", ""},
		{"trailing dollar", "5$", "5$", ""},
		{"default with colon", "${NOPE:-a:b}", "a:b", ""},
		{"unset", "${NOPE}", "", "environment variable NOPE is not set (write ${NOPE:-default} to give a default)"},
		{"unterminated", "${HOST", "", `unterminated ${ in "${HOST" (write $$ for a literal $)`},
		{"bad name", "${1X}", "", "invalid reference ${1X} (want ${NAME} or ${NAME:-default}; $$ for a literal $)"},
		{"empty name", "${}", "", "invalid reference ${} (want ${NAME} or ${NAME:-default}; $$ for a literal $)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := expand(c.in, lookup)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %s", err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestEnvInProfile(t *testing.T) {
	clearTestEnv(t)
	p, err := Load("testdata/good/features.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Operations[0].Workers != 8 || p.Operations[0].Duration.D() != 3*time.Second || p.Database.DSN != "/tmp/features.db" {
		t.Errorf("defaults not expanded: %+v %+v", p.Operations[0], p.Database)
	}
	if got := p.Setup[0].SQL; got != "UPDATE counters SET note = 'costs $5' WHERE id = $1" {
		t.Errorf("setup = %q", got)
	}
	t.Setenv("COLLIDE_TEST_WORKERS", "12")
	t.Setenv("COLLIDE_TEST_DIR", "/var/run")
	p, err = Load("testdata/good/features.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Operations[1].Workers != 12 || p.Database.DSN != "/var/run/features.db" {
		t.Errorf("env not expanded: %+v %+v", p.Operations[1], p.Database)
	}
	if p.Operations[1].Rate.PerSecond() != 50 || p.Operations[0].Rate.PerSecond() != 100 {
		t.Error("merge: explicit key must win over the merged one")
	}
	// A quoted reference stays text, so an integer field rejects it.
	t.Setenv("COLLIDE_TEST_WORKERS", "12")
	_, err = Parse("q.yaml", []byte(strings.Replace(lineProfile, "duration: 2s", "duration: 2s\n    workers: \"${COLLIDE_TEST_WORKERS}\"", 1)), nil)
	if err == nil || err.Error() != `q.yaml:18: operations[0].workers: want an integer, got "12"` {
		t.Errorf("quoted int: %v", err)
	}
}

func TestStatusSet(t *testing.T) {
	cases := []struct {
		name  string
		specs []string
		in    []int
		out   []int
		err   string
	}{
		{"class", []string{"2xx"}, []int{200, 204, 299}, []int{199, 300, 409}, ""},
		{"upper X", []string{"5XX"}, []int{500, 503}, []int{499}, ""},
		{"code", []string{"409"}, []int{409}, []int{408, 410}, ""},
		{"range", []string{"200-204"}, []int{200, 202, 204}, []int{205}, ""},
		{"mixed", []string{" 2xx ", "409", "422-429"}, []int{201, 409, 425}, []int{404, 500}, ""},
		{"empty", nil, nil, []int{200}, ""},
		{"bad class", []string{"6xx"}, nil, nil, `invalid status "6xx" (want e.g. 2xx, 409 or 200-204)`},
		{"bad code", []string{"99"}, nil, nil, `invalid status "99" (want e.g. 2xx, 409 or 200-204)`},
		{"word", []string{"ok"}, nil, nil, `invalid status "ok" (want e.g. 2xx, 409 or 200-204)`},
		{"reversed", []string{"204-200"}, nil, nil, `invalid status range "204-200" (the low code comes first)`},
		{"open range", []string{"200-"}, nil, nil, `invalid status "200-" (want e.g. 2xx, 409 or 200-204)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseStatusSet(c.specs)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, code := range c.in {
				if !s.Has(code) {
					t.Errorf("%v lacks %d", c.specs, code)
				}
			}
			for _, code := range c.out {
				if s.Has(code) {
					t.Errorf("%v has %d", c.specs, code)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	cases := []struct {
		name string
		err  Error
		want string
	}{
		{"full", Error{"counter.yaml", 12, "operations[0].rate", "bad"}, "counter.yaml:12: operations[0].rate: bad"},
		{"no field", Error{"counter.yaml", 3, "", "syntax"}, "counter.yaml:3: syntax"},
		{"no line", Error{"counter.yaml", 0, "--set operations[0].rate", "bad"}, "counter.yaml: --set operations[0].rate: bad"},
		{"file only", Error{"x.yaml", 0, "", "empty"}, "x.yaml: empty"},
		{"no file", Error{"", 0, "name", "required"}, "name: required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	if e := errorf("f.yaml", 1, false, "a\nb", "x\ty"); e.Error() != `f.yaml:1: a\nb: x\ty` {
		t.Errorf("control characters not escaped: %q", e.Error())
	}
}

func TestBuiltins(t *testing.T) {
	list := Builtins()
	if len(list) == 0 {
		t.Fatal("no built-in profiles")
	}
	for i, b := range list {
		if i > 0 && list[i-1].Name >= b.Name {
			t.Errorf("not sorted: %s before %s", list[i-1].Name, b.Name)
		}
		t.Run(b.Name, func(t *testing.T) {
			p, err := Load(b.Name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != b.Name {
				t.Errorf("profile name %q differs from its file name %q", p.Name, b.Name)
			}
			if b.About == "" || b.About != p.About {
				t.Errorf("about %q vs %q", b.About, p.About)
			}
			if p.File() != "builtin/"+b.Name+".yaml" {
				t.Errorf("File() = %q", p.File())
			}
		})
	}
	if _, err := Builtin("counter.yaml"); err != nil {
		t.Errorf("Builtin with .yaml: %v", err)
	}
	for _, name := range []string{"", "nope", "../profiles", "builtin/counter", "COUNTER"} {
		if _, err := Builtin(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Builtin(%q) = %v, want ErrNotExist", name, err)
		}
	}
}

func TestBuiltinCounter(t *testing.T) {
	p, err := Load("counter", []string{"target.demo.mode=safe"})
	if err != nil {
		t.Fatal(err)
	}
	o := p.Operations[0]
	if p.Target.Demo.Mode != "safe" || o.Name != "incr" || o.Rate.PerSecond() != 40 || o.Burst == nil || o.Burst.Copies != 16 || p.Database.Driver != "sqlite" {
		t.Errorf("counter: %+v", p)
	}
	_, err = Load("counter", []string{"operations[0].rate=abc"})
	if err == nil || err.Error() != `builtin/counter.yaml: --set operations[0].rate: invalid rate "abc" (want e.g. 300/s, 10/100ms or max)` {
		t.Errorf("got %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "counter")
	if err := os.WriteFile(path, []byte(strings.Replace(lineProfile, "name: lines", "name: local", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path, nil)
	if err != nil || p.Name != "local" {
		t.Fatalf("a file wins over a built-in: %v %v", p, err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing", "no-such-profile", `no-such-profile: no such file, and no built-in profile of that name (built-ins: `},
		{"directory", dir, dir + ": is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path, nil)
			var perr *Error
			if !errors.As(err, &perr) || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("Load(%q) = %v, want prefix %q", c.path, err, c.want)
			}
		})
	}
}

// FuzzParse checks that no input makes Parse panic, that every error is a
// one-line *Error, and that a parsed profile survives a YAML round trip.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/good/*.yaml", "../testdata/bad-profiles/*.yaml", "builtin/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, "")
		}
	}
	f.Add([]byte(lineProfile), "operations[0].rate=50/s\nchaos[1].toxicity=0.2")
	f.Add([]byte(lineProfile), "chaos[5].fault=x")
	f.Add([]byte(lineProfile), "target={demo: {mode: safe}}\nx-a=*b")
	f.Add([]byte("a: &a [*a]\n"), "a[0][0]=1")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		var sets []string
		if set != "" {
			sets = strings.Split(set, "\n")
		}
		p, err := Parse("fuzz.yaml", data, sets)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if p != nil {
				t.Fatal("profile returned with an error")
			}
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("bad message %q", msg)
			}
			return
		}
		if len(p.Hash()) != 64 {
			t.Fatalf("hash %q", p.Hash())
		}
		_ = p.Errorf("operations[0].request.url", "x").Error()
		out, err := yaml.Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if bytes.Contains(out, []byte("$")) {
			return // would be expanded again
		}
		q, err := Parse("again.yaml", out, nil)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if !equalJSON(p, q) {
			t.Fatalf("round trip changed the profile:\n%s", out)
		}
	})
}

// TestDocExamples parses the examples in docs/profiles.md, so the
// documentation cannot drift from the parser.
func TestDocExamples(t *testing.T) {
	doc := string(mustRead(t, "../docs/profiles.md"))
	var blocks []string
	for rest := doc; ; {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, tail, _ := strings.Cut(after, "```")
		blocks = append(blocks, block)
		rest = tail
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d yaml blocks", len(blocks))
	}
	full := blocks[0]
	p, err := Parse("docs-example.yaml", []byte(full), nil)
	if err != nil {
		t.Fatalf("first example: %v", err)
	}
	if p.Name != "counter" {
		t.Errorf("name %q", p.Name)
	}
	// Every other block is a fragment: splice it into the full example in
	// place of the top-level fields it defines.
	t.Setenv("COLLIDE_PG", "postgres://127.0.0.1/x")
	for i, b := range blocks[1:] {
		var frag map[string]yaml.Node
		if err := yaml.Unmarshal([]byte(b), &frag); err != nil {
			t.Errorf("block %d: %v\n%s", i+1, err, b)
			continue
		}
		var base map[string]any
		if err := yaml.Unmarshal([]byte(full), &base); err != nil {
			t.Fatal(err)
		}
		merged := b
		for k, v := range base {
			if _, ok := frag[k]; ok {
				continue
			}
			if k == "chaos" && frag["database"].Kind != 0 {
				continue
			}
			out, _ := yaml.Marshal(map[string]any{k: v})
			merged += "\n" + string(out)
		}
		if _, err := Parse("block.yaml", []byte(merged), nil); err != nil {
			t.Errorf("block %d: %v\n%s", i+1, err, merged)
		}
	}
}
