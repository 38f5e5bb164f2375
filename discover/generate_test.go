package discover_test

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// genCase is a hand-made finding on one of the demo's endpoints, with the
// request that showed it.
type genCase struct {
	name string
	f    discover.Finding
	req  discover.Request
}

func genCases() []genCase {
	return []genCase{
		{"counter", discover.Finding{ID: "F-c0ffee", Endpoint: "POST /counters/{id}/increment", RequestID: "openapi:incr",
			Class: discover.LostUpdate, Table: "counters", Columns: []string{"value"},
			Evidence: []string{"1. SELECT value FROM counters WHERE id = $1", "2. UPDATE counters SET value = $1 WHERE id = $2"},
			Why:      "value is read, then written back computed, with no lock or conditional UPDATE.", Checker: "counter",
			Fix: "UPDATE counters SET value = value + 1 WHERE id = $1"},
			discover.Request{ID: "openapi:incr", Endpoint: "POST /counters/{id}/increment", Method: "POST", URL: "/counters/1/increment",
				Source: "openapi.json: paths./counters/{id}/increment.post"}},
		{"toctou-debit", discover.Finding{ID: "F-0dead1", Endpoint: "POST /accounts/{id}/debit", Class: discover.TOCTOUDebit,
			Table: "accounts", Columns: []string{"balance"},
			Evidence: []string{"1. SELECT balance FROM accounts WHERE id = $1", "2. UPDATE accounts SET balance = $1 WHERE id = $2"},
			Why:      "balance is checked, then debited, without FOR UPDATE or WHERE balance >= amount.", Checker: "never_negative"},
			discover.Request{ID: "har:2", Endpoint: "POST /accounts/{id}/debit", Method: "POST", URL: "http://shop.example.com/accounts/1/debit",
				Header: http.Header{"Content-Type": {"application/json"}, "Cookie": {"session=s3cr3t-session"}}, Body: []byte(`{"amount": 10}`),
				Source: "shop.har: entry 2"}},
		{"double-submit", discover.Finding{ID: "F-0a0b0c", Endpoint: "POST /orders", Class: discover.DoubleSubmit,
			Table: "orders", Columns: []string{"idempotency_key"},
			Evidence: []string{"1. SELECT id FROM orders WHERE idempotency_key = $1", "2. INSERT INTO orders (idempotency_key, item) VALUES ($1, $2)"},
			Why:      "no unique index on orders(idempotency_key).", Checker: "unique"},
			discover.Request{ID: "openapi:POST /orders", Endpoint: "POST /orders", Method: "POST", URL: "/orders",
				Header: http.Header{"Idempotency-Key": {"order-1"}, "Authorization": {"Bearer s3cr3t-token"}}, Body: []byte(`{"item": "book"}`)}},
		{"webhook-replay", discover.Finding{ID: "F-123456", Endpoint: "POST /webhooks", Class: discover.IdempotencyKey,
			Table: "webhook_events", Columns: []string{"event_id"},
			Evidence: []string{"1. SELECT 1 FROM webhook_events WHERE event_id = $1", "2. UPDATE wallets SET balance = $1 WHERE id = $2", "3. INSERT INTO webhook_events (event_id, wallet, amount) VALUES ($1, $2, $3)"},
			Why:      "the event id is checked, the work done, and only then the id inserted.", Checker: "exactly_one"},
			discover.Request{ID: "openapi:POST /webhooks", Endpoint: "POST /webhooks", Method: "POST", URL: "/webhooks",
				Body: []byte(`{"event_id": "evt-1", "wallet": 1, "amount": 5}`)}},
		{"out-of-order-jobs", discover.Finding{ID: "F-abcdef", Endpoint: "POST /reports/{id}/regenerate", Class: discover.NewestWins,
			Table: "reports", Columns: []string{"job"},
			Evidence: []string{"1. UPDATE reports SET job = $1, result = $2 WHERE id = $3"},
			Why:      "job is overwritten without the old value in the WHERE.", Checker: "newest_wins"},
			discover.Request{ID: "openapi:regen", Endpoint: "POST /reports/{id}/regenerate", Method: "POST", URL: "/reports/7/regenerate",
				Body: []byte(`{"job": 3}`)}},
	}
}

// TestGenerateValidates: a profile generated from a hand-made finding of
// each class passes collide validate (profiles.Parse + harness.Validate),
// for a url target and for the demo, and matches its golden file.
func TestGenerateValidates(t *testing.T) {
	t.Setenv(discover.EnvDSN, "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable")
	t.Setenv(discover.EnvTarget, "http://127.0.0.1:8080")
	t.Setenv("COLLIDE_AUTHORIZATION", "Bearer x")
	t.Setenv("COLLIDE_COOKIE", "session=x")
	setup := []discover.Request{{ID: "openapi:login", Endpoint: "POST /login", Method: "POST", URL: "/login",
		Body: []byte(`{"user": "alice"}`), Setup: true, Header: http.Header{"Authorization": {"Basic c2VjcmV0"}}}}
	for _, c := range genCases() {
		for _, target := range []struct{ name, demo string }{{"url", ""}, {"demo", "racy"}} {
			t.Run(c.name+"/"+target.name, func(t *testing.T) {
				out, err := discover.ProfileWith(c.f, c.req, setup, discover.GenerateOptions{Driver: "postgres", DemoMode: target.demo})
				if err != nil {
					t.Fatalf("generate: %v", err)
				}
				for _, secret := range []string{"s3cr3t", "c2VjcmV0", "collide:collide"} {
					if bytes.Contains(out, []byte(secret)) {
						t.Errorf("the profile holds the secret %q:\n%s", secret, out)
					}
				}
				file := filepath.Join("testdata", "generate", c.name+"-"+target.name+".yaml")
				p, err := profiles.Parse(file, out, nil)
				if err == nil {
					err = harness.Validate(p)
				}
				if err != nil {
					t.Fatalf("collide validate: %v\n%s", err, out)
				}
				golden(t, file, out)
			})
		}
	}
}

// TestGenerateProfileDefaults: Profile targets ${COLLIDE_TARGET}, and a
// finding without a checker takes its class's.
func TestGenerateProfileDefaults(t *testing.T) {
	c := genCases()[0]
	c.f.Checker = ""
	out, err := discover.Profile(c.f, c.req, nil, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"url: ${COLLIDE_TARGET}", "dsn: ${COLLIDE_DB_DSN}", "check: counter",
		"query: SELECT value FROM counters WHERE id = 1", "url: /counters/{{key}}/increment", `keys: ["1"]`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
}

func TestGenerateRefuses(t *testing.T) {
	c := genCases()[0]
	cases := []struct {
		name   string
		f      discover.Finding
		driver string
		want   string
	}{
		{"no driver", c.f, "", "no database driver"},
		{"no table", discover.Finding{ID: "F-1", Checker: "counter"}, "postgres", "names no table"},
		{"unknown checker", discover.Finding{ID: "F-1", Table: "t", Columns: []string{"c"}, Checker: "linearizable"}, "postgres", `no generator for checker "linearizable"`},
		{"unique without columns", discover.Finding{ID: "F-1", Table: "t", Checker: "unique"}, "postgres", "names no columns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := discover.Profile(tc.f, c.req, nil, tc.driver)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated profile (run with -update to accept):\n%s", path, got)
	}
}
