package discover_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// genCase is a hand-made finding on one of the demo's endpoints, with the
// request that showed it.
type genCase struct {
	name string
	f    discover.Finding
	req  discover.Request
	tr   *discover.Trace // the request's statements, with their parameter values (nil: none recorded)
}

// traced is a trace of statements, each a text and its parameter values.
func traced(stmts ...tap.Statement) *discover.Trace { return &discover.Trace{Statements: stmts} }

func stmt(text string, params ...string) tap.Statement {
	st := tap.Statement{Text: text}
	for _, p := range params {
		st.Params = append(st.Params, tap.Param{Text: p})
	}
	return st
}

func genCases() []genCase {
	return []genCase{
		{"counter", discover.Finding{ID: "F-c0ffee", Endpoint: "POST /counters/{id}/increment", RequestID: "openapi:incr",
			Class: discover.LostUpdate, Table: "counters", Columns: []string{"value"},
			Evidence: []string{"1. SELECT value FROM counters WHERE id = $1", "2. UPDATE counters SET value = $1 WHERE id = $2"},
			Why:      "value is read, then written back computed, with no lock or conditional UPDATE.", Checker: "counter",
			Fix: "UPDATE counters SET value = value + 1 WHERE id = $1"},
			discover.Request{ID: "openapi:incr", Endpoint: "POST /counters/{id}/increment", Method: "POST", URL: "/counters/1/increment",
				Source: "openapi.json: paths./counters/{id}/increment.post"}, nil},
		{"toctou-debit", discover.Finding{ID: "F-0dead1", Endpoint: "POST /accounts/{id}/debit", Class: discover.TOCTOUDebit,
			Table: "accounts", Columns: []string{"balance"},
			Evidence: []string{"1. SELECT balance FROM accounts WHERE id = $1", "2. UPDATE accounts SET balance = $1 WHERE id = $2"},
			Why:      "balance is checked, then debited, without FOR UPDATE or WHERE balance >= amount.", Checker: "never_negative"},
			discover.Request{ID: "har:2", Endpoint: "POST /accounts/{id}/debit", Method: "POST", URL: "http://shop.example.com/accounts/1/debit",
				Header: http.Header{"Content-Type": {"application/json"}, "Cookie": {"session=s3cr3t-session"}}, Body: []byte(`{"amount": 10}`),
				Source: "shop.har: entry 2"},
			// a computed write (balance = ?): the amount is the body's
			traced(stmt("SELECT balance FROM accounts WHERE id = $1", "1"), stmt("UPDATE accounts SET balance = $1 WHERE id = $2", "90", "1"))},
		{"oversell", discover.Finding{ID: "F-0ff5e1", Endpoint: "POST /products/{id}/purchase", Class: discover.TOCTOUDebit,
			Table: "products", Columns: []string{"stock"},
			Evidence: []string{"1. SELECT stock FROM products WHERE id = ?", "3. UPDATE products SET stock = stock - 1 WHERE id = ?  (in a transaction)"},
			Why:      "stock is checked, then lowered, without FOR UPDATE or WHERE stock > 0.", Checker: "never_negative"},
			discover.Request{ID: "openapi:buy", Endpoint: "POST /products/{id}/purchase", Method: "POST", URL: "/products/3/purchase",
				Body: []byte(`{"buyer": "alice"}`)},
			// a subtracting write: the amount is its literal
			traced(stmt("SELECT stock FROM products WHERE id = ?", "3"), stmt("INSERT INTO purchases (product_id, buyer) VALUES (?, ?)", "3", "alice"),
				stmt("UPDATE products SET stock = stock - 1 WHERE id = ?", "3"))},
		{"first-or-create", discover.Finding{ID: "F-fa7041", Endpoint: "POST /resources/{id}/favorite", Class: discover.DoubleSubmit,
			Table: "favorites", Columns: []string{"resource_id", "user_id"},
			Evidence: []string{"2. SELECT id FROM favorites WHERE resource_id = $1 AND user_id = $2", "3. INSERT INTO favorites (resource_id, user_id) VALUES ($1, $2)"},
			Why:      "no unique index on favorites(resource_id, user_id).", Checker: "unique"},
			discover.Request{ID: "openapi:fav", Endpoint: "POST /resources/{id}/favorite", Method: "POST", URL: "/resources/1/favorite"},
			// no value of the request to make fresh: the recorded rows go
			traced(stmt("SELECT user_id FROM sessions WHERE token = $1", "t0k"), stmt("SELECT id FROM favorites WHERE resource_id = $1 AND user_id = $2", "1", "7"),
				stmt("INSERT INTO favorites (resource_id, user_id) VALUES ($1, $2)", "1", "7"))},
		{"lease", discover.Finding{ID: "F-1ea5e0", Endpoint: "POST /locks/{name}/run", Class: discover.LostUpdate,
			Table: "locks", Columns: []string{"expires_us"},
			Evidence: []string{"1. SELECT expires_us FROM locks WHERE name = $1", "2. INSERT INTO locks (name, holder, expires_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us"},
			Why:      "expires_us is read, then written back computed.", Checker: "counter"},
			discover.Request{ID: "openapi:lock", Endpoint: "POST /locks/{name}/run", Method: "POST", URL: "/locks/nightly/run", Body: []byte(`{"hold": "10ms"}`)},
			// taken, then released: exactly_one per burst, not counter
			traced(stmt("SELECT expires_us FROM locks WHERE name = $1", "nightly"),
				stmt("INSERT INTO locks (name, holder, expires_us) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us", "nightly", "h1", "1700000000000000"),
				stmt("INSERT INTO lock_log (name, holder) VALUES ($1, $2)", "nightly", "h1"),
				stmt("DELETE FROM locks WHERE name = $1 AND holder = $2", "nightly", "h1"))},
		{"double-submit", discover.Finding{ID: "F-0a0b0c", Endpoint: "POST /orders", Class: discover.DoubleSubmit,
			Table: "orders", Columns: []string{"idempotency_key"},
			Evidence: []string{"1. SELECT id FROM orders WHERE idempotency_key = $1", "2. INSERT INTO orders (idempotency_key, item) VALUES ($1, $2)"},
			Why:      "no unique index on orders(idempotency_key).", Checker: "unique"},
			discover.Request{ID: "openapi:POST /orders", Endpoint: "POST /orders", Method: "POST", URL: "/orders",
				Header: http.Header{"Idempotency-Key": {"order-1"}, "Authorization": {"Bearer s3cr3t-token"}}, Body: []byte(`{"item": "book"}`)}, nil},
		{"webhook-replay", discover.Finding{ID: "F-123456", Endpoint: "POST /webhooks", Class: discover.IdempotencyKey,
			Table: "webhook_events", Columns: []string{"event_id"},
			Evidence: []string{"1. SELECT 1 FROM webhook_events WHERE event_id = $1", "2. UPDATE wallets SET balance = $1 WHERE id = $2", "3. INSERT INTO webhook_events (event_id, wallet, amount) VALUES ($1, $2, $3)"},
			Why:      "the event id is checked, the work done, and only then the id inserted.", Checker: "exactly_one"},
			discover.Request{ID: "openapi:POST /webhooks", Endpoint: "POST /webhooks", Method: "POST", URL: "/webhooks",
				Body: []byte(`{"event_id": "evt-1", "wallet": 1, "amount": 5}`)}, nil},
		{"out-of-order-jobs", discover.Finding{ID: "F-abcdef", Endpoint: "POST /reports/{id}/regenerate", Class: discover.NewestWins,
			Table: "reports", Columns: []string{"job"},
			Evidence: []string{"1. UPDATE reports SET job = $1, result = $2 WHERE id = $3"},
			Why:      "job is overwritten without the old value in the WHERE.", Checker: "newest_wins"},
			discover.Request{ID: "openapi:regen", Endpoint: "POST /reports/{id}/regenerate", Method: "POST", URL: "/reports/7/regenerate",
				Body: []byte(`{"job": 3}`)}, nil},
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
				out, err := discover.ProfileWith(c.f, c.req, setup, discover.GenerateOptions{Driver: "postgres", DemoMode: target.demo, Trace: c.tr})
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
				generateGolden(t, file, out)
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

func generateGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if updating() {
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

// TestGenerateQueries: the invariant written for findings shaped as the
// analysis reports them on the racy demo.
func TestGenerateQueries(t *testing.T) {
	t.Setenv(discover.EnvDSN, "postgres://collide@127.0.0.1:5432/collide?sslmode=disable")
	cases := []struct {
		name     string
		f        discover.Finding
		endpoint string
		url      string
		want     string
	}{
		{"version among several SET columns", discover.Finding{Class: discover.LostUpdate, Table: "docs", Columns: []string{"version"}, Checker: "counter",
			Evidence: []string{"1. SELECT version FROM docs WHERE id = $1", "2. UPDATE docs SET title = $1, version = $2 WHERE id = $3"}},
			"PUT /docs/{id}", "/docs/1", "query: SELECT version FROM docs WHERE id = 1"},
		{"upsert (spread over NewestKeys rows)", discover.Finding{Class: discover.NewestWins, Table: "reports", Columns: []string{"job", "result"}, Checker: "newest_wins",
			Evidence: []string{"1. INSERT INTO reports (id, job, result) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET job = excluded.job, result = excluded.result RETURNING job"}},
			"POST /reports/{id}/regenerate", "/reports/7/regenerate", "query: SELECT id, job FROM reports WHERE id >= 7 AND id <= 22"},
		{"MariaDB upsert: the key is the path's", discover.Finding{Class: discover.NewestWins, Table: "reports", Columns: []string{"job", "result"}, Checker: "newest_wins",
			Evidence: []string{"1. INSERT INTO reports (id, job, result) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE job = VALUES(job), result = VALUES(result)"}},
			"POST /reports/{id}/regenerate", "/reports/7/regenerate", "query: SELECT id, job FROM reports WHERE id >= 7 AND id <= 22"},
		{"rows added", discover.Finding{Class: discover.LostUpdate, Table: "project_items", Columns: []string{"item"}, Checker: "counter",
			Evidence: []string{"1. SELECT item FROM project_items WHERE project_id = $1 ORDER BY id", "4. DELETE FROM project_items WHERE project_id = $1  (in a transaction)",
				"5. INSERT INTO project_items (project_id, item) VALUES ($1, $2)  (in a transaction)"}},
			"POST /projects/{id}/items", "/projects/1/items", "query: SELECT COUNT(*) FROM project_items WHERE project_id = 1"},
		{"in a transaction", discover.Finding{Class: discover.TOCTOUDebit, Table: "products", Columns: []string{"stock"}, Checker: "never_negative",
			Evidence: []string{"1. SELECT stock FROM products WHERE id = $1", "3. UPDATE products SET stock = stock - 1 WHERE id = $1 RETURNING stock  (in a transaction)"}},
			"POST /products/{id}/purchase", "/products/1/purchase", "query: SELECT id, stock FROM products"},
		{"two key columns", discover.Finding{Class: discover.DoubleSubmit, Table: "favorites", Columns: []string{"resource_id", "user_id"}, Checker: "unique",
			Evidence: []string{"3. SELECT id FROM favorites WHERE resource_id = $1 AND user_id = $2 ORDER BY id LIMIT 1", "4. INSERT INTO favorites (resource_id, user_id) VALUES ($1, $2) RETURNING id"}},
			"POST /resources/{id}/favorite", "/resources/3/favorite", "unique: SELECT resource_id, user_id FROM favorites"},
		{"no key in the path", discover.Finding{Class: discover.LostUpdate, Table: "counters", Columns: []string{"value"}, Checker: "counter",
			Evidence: []string{"2. UPDATE counters SET value = $1 WHERE id = $2"}},
			"POST /increment", "/increment?id=1", "query: SELECT COALESCE(SUM(value), 0) FROM counters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f.ID, c.f.Endpoint = "F-000001", c.endpoint
			method, _, _ := strings.Cut(c.endpoint, " ")
			req := discover.Request{ID: "r", Endpoint: c.endpoint, Method: method, URL: c.url, Body: []byte(`{"job": 1}`)}
			out, err := discover.ProfileWith(c.f, req, nil, discover.GenerateOptions{Driver: "postgres", DemoMode: "racy"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("want %q in\n%s", c.want, out)
			}
			p, err := profiles.Parse("gen.yaml", out, nil)
			if err == nil {
				err = harness.Validate(p)
			}
			if err != nil {
				t.Errorf("collide validate: %v\n%s", err, out)
			}
		})
	}
}

// TestGenerateCaptures: a login's captured token becomes the setup step's
// capture and stays {{token}} in the operation's Authorization header.
func TestGenerateCaptures(t *testing.T) {
	t.Setenv(discover.EnvDSN, "postgres://collide@127.0.0.1:5432/collide?sslmode=disable")
	login := discover.Request{ID: "openapi:login", Endpoint: "POST /login", Method: "POST", URL: "/login", Body: []byte(`{"user": "alice"}`), Setup: true}
	fav := discover.Request{ID: "openapi:fav", Endpoint: "POST /resources/{id}/favorite", Method: "POST", URL: "/resources/1/favorite",
		Header: http.Header{"Authorization": {"Bearer {{token}}"}}}
	f := discover.Finding{ID: "F-cb9381", Endpoint: fav.Endpoint, RequestID: fav.ID, Class: discover.DoubleSubmit, Table: "favorites",
		Columns: []string{"resource_id", "user_id"}, Checker: "unique"}
	caps := func(r discover.Request) map[string]string {
		if r.ID == login.ID {
			return map[string]string{"token": "token"}
		}
		return nil
	}
	out, err := discover.ProfileWith(f, fav, []discover.Request{login}, discover.GenerateOptions{Driver: "postgres", DemoMode: "racy", Captures: caps})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"capture: {token: token}", "Authorization: Bearer {{token}}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	p, err := profiles.Parse("gen.yaml", out, nil)
	if err == nil {
		err = harness.Validate(p)
	}
	if err != nil {
		t.Errorf("collide validate: %v\n%s", err, out)
	}
}

// TestGenerateCapturedKey: a path key that is a captured variable stays in
// the URL and becomes the query's bind parameter.
func TestGenerateCapturedKey(t *testing.T) {
	t.Setenv(discover.EnvDSN, "postgres://collide@127.0.0.1:5432/collide?sslmode=disable")
	create := discover.Request{ID: "c", Endpoint: "POST /projects", Method: "POST", URL: "/projects", Setup: true}
	add := discover.Request{ID: "a", Endpoint: "POST /projects/{id}/items", Method: "POST", URL: "/projects/{{project}}/items", Body: []byte(`{"item": "x"}`)}
	f := discover.Finding{ID: "F-cc1599", Endpoint: add.Endpoint, RequestID: "a", Class: discover.LostUpdate, Table: "project_items", Columns: []string{"item"}, Checker: "counter",
		Evidence: []string{"1. SELECT item FROM project_items WHERE project_id = $1 ORDER BY id", "2. INSERT INTO project_items (project_id, item) VALUES ($1, $2)"}}
	caps := func(r discover.Request) map[string]string {
		if r.Setup {
			return map[string]string{"project": "id"}
		}
		return nil
	}
	out, err := discover.ProfileWith(f, add, []discover.Request{create}, discover.GenerateOptions{Driver: "postgres", DemoMode: "racy", Captures: caps})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"url: /projects/{{project}}/items", "query: SELECT COUNT(*) FROM project_items WHERE project_id = {{project}}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "keys:") {
		t.Errorf("keys drawn for a captured key:\n%s", out)
	}
	p, err := profiles.Parse("gen.yaml", out, nil)
	if err == nil {
		err = harness.Validate(p)
	}
	if err != nil {
		t.Errorf("collide validate: %v\n%s", err, out)
	}
}

// TestGenerateFreshRows: a race that happens once per row gets fresh rows:
// a double submit whose parent a setup request creates repeats that
// request and aims each burst at one of its parents; a newest_wins upsert
// spreads its stream over NewestKeys rows it clears first.
func TestGenerateFreshRows(t *testing.T) {
	t.Setenv(discover.EnvDSN, "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable")
	byName := map[string]genCase{}
	for _, c := range genCases() {
		byName[c.name] = c
	}
	parent := discover.Request{ID: "openapi:res", Endpoint: "POST /resources", Method: "POST", URL: "/resources",
		Body: []byte(`{"name": "guide"}`), Setup: true}
	upsert := byName["out-of-order-jobs"]
	upsert.f.Evidence = []string{"1. INSERT INTO reports (id, job, result) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET job = excluded.job, result = excluded.result"}
	for _, c := range []struct {
		name  string
		c     genCase
		setup []discover.Request
		want  []string
		not   []string
	}{
		{"double submit with a parent", byName["first-or-create"], []discover.Request{parent},
			[]string{"repeat: 20", "keys: {capture: resource}", "DELETE FROM favorites WHERE resource_id = '1' AND user_id = '7'"}, []string{"keys: [\"1\"]"}},
		{"double submit without one", byName["first-or-create"], nil,
			[]string{`keys: ["1"]`, "DELETE FROM favorites"}, []string{"repeat:"}},
		{"newest_wins upsert", upsert, nil,
			[]string{"keys: {from: 7, to: 22}", "DELETE FROM reports WHERE id >= 7 AND id <= 22", "query: SELECT id, job FROM reports WHERE id >= 7 AND id <= 22"}, nil},
		{"newest_wins update", byName["out-of-order-jobs"], nil,
			[]string{`keys: ["7"]`, "WHERE id = 7"}, []string{"DELETE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := discover.ProfileWith(c.c.f, c.c.req, c.setup, discover.GenerateOptions{Driver: "postgres", DemoMode: "racy", Trace: c.c.tr,
				Captures: func(r discover.Request) map[string]string {
					if r.URL == "/resources" {
						return map[string]string{"resource": "id"}
					}
					return nil
				}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := profiles.Parse("fresh.yaml", out, nil)
			if err == nil {
				err = harness.Validate(p)
			}
			if err != nil {
				t.Fatalf("collide validate: %v\n%s", err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("no %q in\n%s", w, out)
				}
			}
			for _, w := range c.not {
				if strings.Contains(string(out), w) {
					t.Errorf("%q in\n%s", w, out)
				}
			}
		})
	}
}
