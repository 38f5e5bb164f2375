package discover_test

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/profiles"
)

// builtinProfile parses the built-in profile name.
func builtinProfile(t *testing.T, name string) *profiles.Profile {
	t.Helper()
	data, err := profiles.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse(name+".yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFromProfile: every built-in profile becomes the requests of its
// golden file (HTTP setup steps and earlier flow steps as setup, captured
// variables and capture keys left as {{name}}, mixed bursts left to their
// members).
func TestFromProfile(t *testing.T) {
	for _, b := range profiles.Builtins() {
		t.Run(b.Name, func(t *testing.T) {
			rs, err := discover.FromProfile(builtinProfile(t, b.Name))
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) == 0 {
				t.Fatal("no requests")
			}
			for _, r := range rs {
				if r.URL == "" || !strings.HasPrefix(r.Endpoint, r.Method+" /") {
					t.Errorf("%s: URL %q, endpoint %q", r.ID, r.URL, r.Endpoint)
				}
			}
			requestsGolden(t, filepath.Join("testdata", "profile", b.Name+".golden.json"), rs)
		})
	}
}

// TestFromProfileErrors: what cannot become a request is one error naming
// the profile and the operation.
func TestFromProfileErrors(t *testing.T) {
	const head = "name: bad\ntarget: {url: http://127.0.0.1:8080}\ndatabase: {driver: sqlite, dsn: /tmp/x.db}\n" +
		"invariants: [{name: n, check: never_negative, query: SELECT 1}]\n"
	cases := []struct {
		name string
		yaml string
		want string
	}{
		{"keys from a query", head + "operations:\n  - name: debit\n    request: {method: POST, url: \"/accounts/{{key}}/debit\"}\n    keys: {query: SELECT id FROM accounts}\n    rate: 1/s\n    duration: 1s\n",
			`bad.yaml: operations[0] "debit": keys: they come from the query "SELECT id FROM accounts", which discovery does not run`},
		{"no profile", "", "discover: no profile"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p *profiles.Profile
			if c.yaml != "" {
				var err error
				if p, err = profiles.Parse("bad.yaml", []byte(c.yaml), nil); err != nil {
					t.Fatal(err)
				}
			}
			_, err := discover.FromProfile(p)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want one starting %q", err, c.want)
			}
		})
	}
}

// TestFromProfileReplay: first-or-create's requests, sent in order on a
// fresh demo with the captures rendered in (the login's token, the created
// resource's id as the favorite's key), succeed.
func TestFromProfileReplay(t *testing.T) {
	rs, err := discover.FromProfile(builtinProfile(t, "first-or-create"))
	if err != nil {
		t.Fatal(err)
	}
	base := serveDemo(t, "racy").URL
	vars := map[string]string{}
	for _, r := range rs {
		status, body := send(t, base, r, vars)
		if status < 200 || status > 299 {
			t.Fatalf("%s %s: %d %s, want 2xx", r.ID, r.URL, status, body)
		}
		got, err := r.Captured(body)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(vars, got)
	}
	if vars["token"] == "" || vars["resource"] == "" {
		t.Errorf("captured %v, want token and resource", vars)
	}
}
