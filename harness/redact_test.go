package harness

import (
	"reflect"
	"strings"
	"testing"

	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// TestSecretsCollect: which values of a profile a run hides wherever they
// appear (also without their name, as a service echoing them would write
// them), and which it leaves alone.
func TestSecretsCollect(t *testing.T) {
	t.Setenv("SHOP_PASSWORD", "env-pw-1a2b")
	t.Setenv("SHOP_PW", "env-pw-3c4d")
	t.Setenv("TRACE_ID", "trace-5e6f")
	cases := []struct {
		name   string
		sets   []string
		hidden []string // scrub hides these in a bare message
		kept   []string // and leaves these
	}{
		{"secret headers, not others", []string{"operations[0].request.headers={X-Api-Key: key-0001, X-Trace: trace-0001}"},
			[]string{"key-0001"}, []string{"trace-0001"}},
		{"a bearer token, not its scheme", []string{"operations[0].request.headers={Authorization: Bearer tok-00000001}"},
			[]string{"tok-00000001"}, []string{"Bearer"}},
		{"body fields named like a secret", []string{`operations[0].request.body='{"user": "alice", "password": "pw-0001", "token": "tk-0001"}'`},
			[]string{"pw-0001", "tk-0001"}, []string{"alice"}},
		{"query string token", []string{"operations[0].request.url=/counters/1/increment?access_token=qs-0001&n=1234"},
			[]string{"qs-0001"}, []string{"1234"}},
		{"env read at run time under a secret name", []string{`operations[0].request.body='{"password": "{{env "SHOP_PW"}}", "pw": "{{env "SHOP_PASSWORD"}}", "t": "{{env "TRACE_ID"}}"}'`},
			[]string{"env-pw-3c4d", "env-pw-1a2b"}, []string{"trace-5e6f"}},
		{"env in a secret header", []string{`operations[0].request.headers={Cookie: '{{env "TRACE_ID"}}'}`},
			[]string{"trace-5e6f"}, nil},
		{"-set to a secret path", []string{"operations[0].request.headers.X-Auth=set-0001"},
			[]string{"set-0001"}, nil},
		{"a weak DSN password is not a word to hide everywhere", []string{"database.driver=postgres", "database.dsn=postgres://collide:collide@127.0.0.1:5432/collide"},
			nil, []string{"collide"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, counterProfile, tc.sets...)
			var s secrets
			s.collect(p, tc.sets)
			for _, v := range tc.hidden {
				if got := s.scrub("echo: " + v + "."); got != "echo: REDACTED." {
					t.Errorf("scrub hides %q as %q", v, got)
				}
			}
			for _, v := range tc.kept {
				if got := s.scrub("echo: " + v + "."); got != "echo: "+v+"." {
					t.Errorf("scrub changed %q to %q", v, got)
				}
			}
		})
	}
}

// TestScrubResultCopies: the result is scrubbed whole, in a deep copy that
// leaves the profile being run alone.
func TestScrubResultCopies(t *testing.T) {
	p := parse(t, counterProfile, `operations[0].request.body='{"password": "pw-7777"}'`)
	r := &run{p: p, res: &report.Result{Error: "service said pw-7777"}}
	r.res.Profile.Effective = p
	r.res.Profile.Overrides = []string{`operations[0].request.body='{"password": "pw-7777"}'`}
	r.res.Warnings = []string{"see postgres://u:pw-8888@h/db"}
	r.secrets.collect(p, nil)
	r.scrubResult()
	if got := r.res.Profile.Effective.(*profiles.Profile).Operations[0].Request.Body; got != `{"password": "REDACTED"}` {
		t.Errorf("effective body = %q", got)
	}
	if strings.Contains(r.res.Error+r.res.Profile.Overrides[0]+r.res.Warnings[0], "pw-") {
		t.Errorf("left: %q %q %q", r.res.Error, r.res.Profile.Overrides, r.res.Warnings)
	}
	if p.Operations[0].Request.Body != `{"password": "pw-7777"}` {
		t.Errorf("the profile being run changed: %q", p.Operations[0].Request.Body)
	}
	// Every string field is reached: a struct of every kind holding one.
	type inner struct{ S string }
	type all struct {
		S  string
		P  *inner
		L  []string
		M  map[string]string
		A  [1]string
		I  any
		un string
	}
	in := all{S: "pw-7777", P: &inner{"pw-7777"}, L: []string{"pw-7777"}, M: map[string]string{"k": "pw-7777"}, A: [1]string{"pw-7777"}, I: "pw-7777", un: "kept"}
	out := scrubbed(reflect.ValueOf(in), r.secrets.scrub).Interface().(all)
	if out.S != Redacted || out.P.S != Redacted || out.L[0] != Redacted || out.M["k"] != Redacted || out.A[0] != Redacted || out.I != Redacted || out.un != "kept" {
		t.Errorf("scrubbed = %+v", out)
	}
	if in.P.S != "pw-7777" || in.L[0] != "pw-7777" || in.M["k"] != "pw-7777" {
		t.Errorf("the original changed: %+v", in)
	}
}

// BenchmarkScrubOpError: what hiding secrets costs per failed op (the
// attack scrubs every op error it records).
func BenchmarkScrubOpError(b *testing.B) {
	var s secrets
	s.add("Bearer tok-9d2c41f7a0e3b6c8", "key-0001", "pw-0001")
	msg := `Post "http://127.0.0.1:43713/resources/17/favorite": read tcp 127.0.0.1:50412->127.0.0.1:43713: read: connection reset by peer`
	b.ReportAllocs()
	for b.Loop() {
		_ = s.scrub(msg)
	}
}
