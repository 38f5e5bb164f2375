package harness

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/report"
)

// testToken is what the app hands out on login: it must appear in no file
// of a run folder.
const testToken = "tok-9d2c41f7a0e3b6c8"

// app is a small service that needs a login: POST /login gives a token,
// POST /resources (with it) creates a resource, POST /resources/{id}/favorites
// favorites it, DELETE /resources/{id} removes it. It keeps its rows in the
// run's database, so invariants can read them.
type app struct {
	db     *sql.DB
	driver string
	mu     sync.Mutex
	hits   map[string]int // "POST /login" → count
}

func newApp(t *testing.T, driver, dsn string) (*app, *httptest.Server) {
	t.Helper()
	sqlDriver := map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[driver]
	if driver == "sqlite" {
		dsn += "?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(sqlDriver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := &app{db: db, driver: driver, hits: map[string]int{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

func (a *app) hit(what string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits[what]
}

// q rewrites ? placeholders for postgres.
func (a *app) q(s string) string {
	if a.driver != "postgres" {
		return s
	}
	n := 0
	var b strings.Builder
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route := r.URL.Path
	parts := strings.Split(strings.Trim(route, "/"), "/")
	if len(parts) >= 2 && parts[0] == "resources" {
		parts[1] = "{id}"
	}
	a.mu.Lock()
	a.hits[r.Method+" /"+strings.Join(parts, "/")]++
	a.mu.Unlock()
	if route == "/login" {
		var body struct{ User, Password string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Password != "pw" {
			http.Error(w, `{"error": "bad password"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"data": {"token": %q, "user": %q}}`, testToken, body.User)
		return
	}
	if route == "/echo" { // a service that quotes the request in its error
		http.Error(w, "forbidden for "+r.Header.Get("Authorization"), http.StatusForbidden)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		http.Error(w, `{"error": "log in first"}`, http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	switch {
	case r.Method == "POST" && route == "/resources":
		var id int64
		if err := a.db.QueryRowContext(ctx, a.q("INSERT INTO resources(name) VALUES (?) RETURNING id"), "r").Scan(&id); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"items": [{"id": %d}]}`, id)
	case r.Method == "POST" && len(parts) == 3 && parts[2] == "favorites":
		if _, err := a.db.ExecContext(ctx, a.q("INSERT INTO favorites(resource_id) VALUES (?)"), strings.Split(route, "/")[2]); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, `{}`)
	case r.Method == "DELETE" && len(parts) == 2:
		if _, err := a.db.ExecContext(ctx, a.q("DELETE FROM resources WHERE id = ?"), strings.Split(route, "/")[2]); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// appProfile logs in, creates a resource and favorites it under load; sets
// adjust it per case.
func appProfile(url, driver, dsn string) string {
	id := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if driver == "postgres" {
		id = "SERIAL PRIMARY KEY"
	}
	return `
name: setup-steps
target:
  url: ` + url + `
database:
  driver: ` + driver + `
  dsn: "` + dsn + `"
setup:
  - DROP TABLE IF EXISTS favorites
  - DROP TABLE IF EXISTS resources
  - CREATE TABLE resources (id ` + id + `, name TEXT)
  - CREATE TABLE favorites (resource_id INTEGER)
  - name: login
    request: {method: POST, url: /login, body: '{"user": "ann", "password": "pw"}'}
    capture: {token: data.token}
  - name: create
    request:
      method: POST
      url: /resources
      headers: {Authorization: "Bearer {{token}}"}
    capture: {resource: items.0.id}
    outcome: {ok: [201]}
  - {name: mark, sql: "UPDATE resources SET name = 'seeded' WHERE id = {{resource}}"}
operations:
  - name: fav
    request:
      method: POST
      url: "/resources/{{resource}}/favorites"
      headers: {Authorization: "Bearer {{token}}"}
    rate: 100/s
    requests: 20
    duration: 2s
invariants:
  - name: every favorite recorded
    query: SELECT COUNT(*) AS n FROM favorites WHERE resource_id = {{resource}}
    expect: n == ok("fav")
  - name: the resource was seeded
    query: SELECT name FROM resources WHERE id = {{resource}}
    expect: count == 1 && name == "seeded"
teardown:
  - name: delete
    request:
      method: DELETE
      url: "/resources/{{resource}}"
      headers: {Authorization: "Bearer {{token}}"}
  - DELETE FROM favorites
`
}

// TestSetupSteps: setup logs in over HTTP, creates a resource and captures
// its id; every operation and invariant uses the variables; teardown runs
// whatever became of the run; a failed step stops the run (exit 3) before
// any load, naming the step; the token is written to no file.
func TestSetupSteps(t *testing.T) {
	type want struct {
		verdict report.Verdict
		exit    int
		err     string // in the error returned and in result.json
		favs    bool   // attack requests were sent
		deleted bool   // teardown's DELETE was sent
	}
	cases := []struct {
		name   string
		driver string
		sets   []string
		want   want
	}{
		{"login, create, favorite: pass on sqlite", "sqlite", nil, want{report.Pass, ExitPass, "", true, true}},
		{"login, create, favorite: pass on postgres", "postgres", nil, want{report.Pass, ExitPass, "", true, true}},
		{"failed login stops the run before any load", "sqlite",
			[]string{`setup[4].request.body='{"user": "ann", "password": "wrong"}'`},
			want{report.Error, ExitEnv, `setup: setup[4] "login": POST /login: status 401: {"error": "bad password"}`, false, false}},
		{"missing capture path stops the run", "sqlite",
			[]string{"setup[5].capture.resource=items.1.id"},
			want{report.Error, ExitEnv, `setup[5] "create": POST /resources: capture resource (path items.1.id): path not in the response: {"items": [{"id": 1}]}`, false, false}},
		{"a failed step's message hides the secret it sent", "sqlite",
			[]string{`setup[6]={name: echo, request: {method: GET, url: /echo, headers: {Authorization: "Bearer {{token}}"}}}`},
			want{report.Error, ExitEnv, `setup[6] "echo": GET /echo: status 403: forbidden for Bearer REDACTED`, false, true}},
		{"teardown runs after a failed invariant, which it does not mask", "sqlite",
			[]string{"invariants[0].expect=n == 0"},
			want{report.Fail, ExitFail, "", true, true}},
		{"a failed teardown turns a pass into an error", "sqlite",
			[]string{"teardown[1]=DELETE FROM no_such_table"},
			want{report.Error, ExitEnv, "teardown: teardown[1]: sqlite:", true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			dsn := filepath.Join(out, "app.db")
			if tc.driver == "postgres" {
				dsn = testpg.New(t)
			}
			a, srv := newApp(t, tc.driver, dsn)
			p := parse(t, appProfile(srv.URL, tc.driver, dsn), tc.sets...)
			var log strings.Builder
			res, err := Run(context.Background(), Options{Profile: p, OutDir: out, Seed: 1, Log: &log})
			if res == nil {
				t.Fatalf("no result: %v", err)
			}
			if res.Verdict != tc.want.verdict || res.ExitCode != tc.want.exit {
				t.Fatalf("verdict %s exit %d (err %v, result error %q, invariants %+v), want %s exit %d",
					res.Verdict, res.ExitCode, err, res.Error, res.Invariants, tc.want.verdict, tc.want.exit)
			}
			if tc.want.err != "" && (err == nil || !strings.Contains(err.Error(), tc.want.err) || !strings.Contains(readResult(t, out).Error, tc.want.err)) {
				t.Fatalf("error %v, result error %q; want %q", err, readResult(t, out).Error, tc.want.err)
			}
			if n := a.hit("POST /resources/{id}/favorites"); (n > 0) != tc.want.favs {
				t.Fatalf("%d attack requests sent, want any: %v", n, tc.want.favs)
			}
			if tc.want.favs && res.Totals.OK != 20 {
				t.Fatalf("%+v: the attack did not authenticate", res.Totals)
			}
			if n := a.hit("DELETE /resources/{id}"); (n == 1) != tc.want.deleted {
				t.Fatalf("teardown DELETE sent %d times, want it: %v\nlog:\n%s", n, tc.want.deleted, log.String())
			}
			t.Logf("log:\n%s", log.String())
			if strings.Contains(log.String(), testToken) {
				t.Fatalf("log leaks the token:\n%s", log.String())
			}
			assertNoSecret(t, out, testToken)
		})
	}
}

// assertNoSecret fails if any file of the run folder holds secret.
func assertNoSecret(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if strings.Contains(string(b), secret) {
			t.Errorf("%s holds the secret", filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("only %d files in the run folder", n)
	}
}

// TestTeardownAfterInterrupt: cancelling mid-attack (what SIGINT does) still
// runs teardown, before the stack is stopped.
func TestTeardownAfterInterrupt(t *testing.T) {
	out := t.TempDir()
	dsn := filepath.Join(out, "app.db")
	a, srv := newApp(t, "sqlite", dsn)
	p := parse(t, appProfile(srv.URL, "sqlite", dsn), "operations[0].requests=2000", "operations[0].duration=20s")
	ctx, cancel := context.WithCancel(context.Background())
	testHook = func(stage string) {
		if stage == "attack" {
			time.AfterFunc(300*time.Millisecond, cancel)
		}
	}
	defer func() { testHook = nil }()
	res, err := Run(ctx, Options{Profile: p, OutDir: out})
	if !errors.Is(err, context.Canceled) || res.Verdict != report.Interrupted {
		t.Fatalf("err = %v, verdict %s; want interrupted", err, res.Verdict)
	}
	if a.hit("POST /resources/{id}/favorites") == 0 || a.hit("DELETE /resources/{id}") != 1 {
		t.Fatalf("hits %v: want some attack and one teardown DELETE", a.hits)
	}
	assertNoSecret(t, out, testToken)
}
