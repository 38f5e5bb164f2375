package profiles

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/collide-dev/collide/chaos/fault"
)

// faultProfile is a valid profile whose chaos entry (line 7) is replaced by
// each case of TestFaultErrors.
const faultProfile = `name: faults
target:
  demo: {mode: racy}
database:
  driver: sqlite
chaos:
  - {link: target, fault: latency, latency: 20ms}
  - link: target
    fault: reset_peer
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 10/s
    duration: 1s
invariants:
  - name: counted
    expect: ok("incr") >= 0
`

// TestFaultErrors: a chaos entry's common fields are checked by the
// loader, its kind's fields by the kind; every error is one line naming
// file, line and field path.
func TestFaultErrors(t *testing.T) {
	entry := "  - {link: target, fault: latency, latency: 20ms}\n"
	for _, tc := range []struct {
		name  string
		entry string   // replaces line 7 ("" keeps it)
		sets  []string // --set overrides
		want  string
	}{
		{name: "unknown fault name lists the known",
			entry: "  - {link: target, fault: packet_loss}\n",
			want:  `f.yaml:7: chaos[0].fault: unknown fault "packet_loss" (known: bandwidth, cut_after_statement, latency, limit_data, reset_peer, slow_close, timeout)`},
		{name: "missing fault name lists the known",
			entry: "  - {link: target, latency: 20ms}\n",
			want:  `f.yaml:7: chaos[0].fault: required (one of bandwidth, cut_after_statement, latency, limit_data, reset_peer, slow_close, timeout)`},
		{name: "statement cut on a database the tap cannot decode",
			entry: "  - {link: database, fault: cut_after_statement}\n",
			want:  `f.yaml:7: chaos[0].fault: cut_after_statement needs a database whose SQL wire protocol collide's tap decodes (driver: postgres or mysql), not driver sqlite`},
		{name: "statement cut on the target link",
			entry: "  - {link: target, fault: cut_after_statement, after: 2}\n",
			want:  `f.yaml:7: chaos[0].link: fault cut_after_statement works on link database only: collide's SQL tap injects it between the service and its database`},
		{name: "statement cut with toxicity",
			entry: "  - {link: database, fault: cut_after_statement, toxicity: 0.3}\n",
			want:  `f.yaml:7: chaos[0].toxicity: not read by fault cut_after_statement: it applies to every connection that reaches its statement`},
		{name: "statement cut match that does not compile",
			entry: "  - {link: database, fault: cut_after_statement, match: \"(insert\"}\n",
			want:  "f.yaml:7: chaos[0].match: error parsing regexp: missing closing ): `(insert`"},
		{name: "statement cut after 0",
			entry: "  - {link: database, fault: cut_after_statement, after: 0}\n",
			want:  `f.yaml:7: chaos[0].after: must be ≥ 1 (the statement to cut after), got 0`},
		{name: "statement cut scope",
			entry: "  - {link: database, fault: cut_after_statement, scope: request}\n",
			want:  `f.yaml:7: chaos[0].scope: invalid scope "request" (want connection or transaction)`},
		{name: "statement cut every as text",
			entry: "  - {link: database, fault: cut_after_statement, every: sometimes}\n",
			want:  `f.yaml:7: chaos[0].every: want true or false, got "sometimes"`},
		{name: "field of another kind",
			entry: "  - {link: target, fault: reset_peer, latency: 20ms}\n",
			want:  `f.yaml:7: chaos[0].latency: unknown field (fault reset_peer takes: timeout)`},
		{name: "field of another kind on its own line",
			entry: "  - link: target\n    fault: bandwidth\n    rate: 64\n    bytes: 10\n",
			want:  `f.yaml:10: chaos[0].bytes: unknown field (fault bandwidth takes: rate)`},
		{name: "misspelt field suggests",
			entry: "  - {link: target, fault: latency, latncy: 20ms}\n",
			want:  `f.yaml:7: chaos[0].latncy: unknown field (did you mean "latency"?)`},
		{name: "bad stream",
			entry: "  - {link: target, fault: latency, latency: 20ms, stream: both}\n",
			want:  `f.yaml:7: chaos[0].stream: invalid stream "both" (want upstream or downstream)`},
		{name: "bad link",
			entry: "  - {link: queue, fault: latency, latency: 20ms}\n",
			want:  `f.yaml:7: chaos[0].link: invalid link "queue" (want target or database)`},
		{name: "toxicity above range",
			entry: "  - {link: target, fault: latency, latency: 20ms, toxicity: 1.5}\n",
			want:  `f.yaml:7: chaos[0].toxicity: 1.5 is out of range (want 0 to 1)`},
		{name: "toxicity below range",
			entry: "  - {link: target, fault: latency, latency: 20ms, toxicity: -0.1}\n",
			want:  `f.yaml:7: chaos[0].toxicity: -0.1 is out of range (want 0 to 1)`},
		{name: "negative duration of the kind",
			entry: "  - {link: target, fault: latency, latency: -20ms}\n",
			want:  `f.yaml:7: chaos[0].latency: negative duration "-20ms"`},
		{name: "negative common duration",
			entry: "  - {link: target, fault: latency, latency: 20ms, from: -1s}\n",
			want:  `f.yaml:7: chaos[0].from: negative duration "-1s"`},
		{name: "kind field of the wrong type",
			entry: "  - {link: target, fault: bandwidth, rate: fast}\n",
			want:  `f.yaml:7: chaos[0].rate: want an integer, got "fast"`},
		{name: "required kind field missing names it at the entry",
			entry: "  - {link: target, fault: slow_close}\n",
			want:  `f.yaml:7: chaos[0].delay: must be > 0`},
		{name: "kind check names its field's line",
			entry: "  - link: target\n    fault: latency\n    latency: 10ms\n    jitter: 20ms\n",
			want:  `f.yaml:10: chaos[0].jitter: must not exceed latency (10ms), got 20ms`},
		{name: "sub-millisecond",
			entry: "  - {link: target, fault: timeout, timeout: 500us}\n",
			want:  `f.yaml:7: chaos[0].timeout: must be at least 1ms (Toxiproxy works in whole milliseconds), got 500µs`},
		{name: "not a mapping",
			entry: "  - latency\n",
			want:  `f.yaml:7: chaos[0]: want a mapping of fields, got "latency"`},
		{name: "duplicate kind field",
			entry: "  - {link: target, fault: latency, latency: 20ms, latency: 30ms}\n",
			want:  `f.yaml:7: chaos[0].latency: duplicate field (first at line 7)`},
		{name: "override of a kind field names the override",
			sets: []string{"chaos[0].latency=0s"},
			want: `f.yaml: --set chaos[0].latency: must be > 0`},
		{name: "override with a field of another kind",
			sets: []string{"chaos[1].rate=5"},
			want: `f.yaml: --set chaos[1].rate: unknown field (fault reset_peer takes: timeout)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := faultProfile
			if tc.entry != "" {
				src = strings.Replace(src, entry, tc.entry, 1)
			}
			_, err := Parse("f.yaml", []byte(src), tc.sets)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
		})
	}
}

// TestFaultParams: a chaos entry's kind fields become its Params, with the
// kind's defaults, and marshal back in one mapping (YAML and JSON).
func TestFaultParams(t *testing.T) {
	src := strings.Replace(faultProfile, "    fault: reset_peer\n", "    fault: reset_peer\n    timeout: 2s\n", 1)
	src = strings.Replace(src, "latency: 20ms}", "latency: 20ms, jitter: 5ms, stream: upstream}", 1)
	p, err := Parse("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Chaos[0].Params, (fault.Latency{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}); got != want {
		t.Errorf("chaos[0].Params = %#v, want %#v", got, want)
	}
	if got, want := p.Chaos[1].Params, (fault.ResetPeer{Timeout: 2 * time.Second}); got != want {
		t.Errorf("chaos[1].Params = %#v, want %#v", got, want)
	}
	if got := p.Line("chaos[1].timeout"); got != 10 {
		t.Errorf("Line(chaos[1].timeout) = %d, want 10", got)
	}
	j, err := json.Marshal(p.Chaos)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `[{"link":"target","fault":"latency","stream":"upstream","toxicity":1,"latency":"20ms","jitter":"5ms"},` +
		`{"link":"target","fault":"reset_peer","stream":"downstream","toxicity":1,"timeout":"2s"}]`
	if string(j) != wantJSON {
		t.Errorf("JSON:\n%s\nwant\n%s", j, wantJSON)
	}
	y, err := yaml.Marshal(p.Chaos[0])
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := yaml.Unmarshal(y, &back); err != nil {
		t.Fatal(err)
	}
	if back["latency"] != "20ms" || back["jitter"] != "5ms" || back["fault"] != "latency" {
		t.Errorf("YAML = %s", y)
	}

	// A fault built in code: Spec checks it, defaults when Params is nil.
	for _, tc := range []struct {
		name string
		f    Fault
		want string
	}{
		{"defaults", Fault{Fault: "reset_peer"}, ""},
		{"defaults that fail", Fault{Fault: "latency"}, "latency: must be > 0"},
		{"unknown kind", Fault{Fault: "gremlins"}, `fault: unknown fault "gremlins" (known: bandwidth`},
		{"params of another kind", Fault{Fault: "latency", Params: fault.Bandwidth{Rate: 1}}, "fault: latency takes fault.Latency, not fault.Bandwidth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, params, err := tc.f.Spec()
			switch {
			case tc.want == "" && (err != nil || k.Name() != tc.f.Fault || reflect.TypeOf(params) != k.Type()):
				t.Errorf("Spec = %v, %#v, %v", k, params, err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("Spec err = %v, want %q", err, tc.want)
			}
		})
	}
}
