package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/internal/testpg"
)

// secretsProfile logs in during setup (with a password in its body), then
// each iteration of its flow logs in again and favorites a resource with
// the token it got, a profile API key and an environment session token.
const secretsProfile = `name: secrets
about: Secrets planted through every path collide reads.
target:
  demo: {mode: racy}
database:
  driver: postgres
setup:
  - DELETE FROM favorites
  - name: login
    request: {method: POST, url: /login, body: '{"user": "alice", "password": "mk-profile-bodypw-19c2"}'}
    capture: {token: token}
    secret: [token]
  - name: resource
    request:
      method: POST
      url: /resources
      headers: {Authorization: "Bearer {{token}}", X-Api-Key: mk-profile-apikey-7f3a}
      body: '{"name": "secret-test"}'
    capture: {resource: id}
    outcome: {ok: [201]}
operations:
  - name: favorite
    flow:
      - name: login
        request: {method: POST, url: /login, body: '{"user": "u-{{seq}}"}'}
        capture: {tok: token}
      - name: fav
        request:
          method: POST
          url: "/resources/{{resource}}/favorite"
          headers:
            Authorization: "Bearer {{tok}}"
            X-Session-Token: "${COLLIDE_TEST_ENV_SECRET}"
        capture: {id: id}
    outcome: {ok: [200, 201], fail: [4xx]}
    rate: 50/s
    requests: 12
    duration: 1s
  - name: health
    request: {method: GET, url: /healthz}
    rate: 20/s
    requests: 4
    duration: 1s
invariants:
  - name: a user favorites a resource at most once
    unique: SELECT resource_id, user_id FROM favorites
  - name: the resource has at most twelve favorites
    query: SELECT COUNT(*) AS n FROM favorites WHERE resource_id = {{resource}}
    expect: n <= 12
`

// secretRole creates a login role with the given password on the test
// server and returns a DSN of db (a testpg database) that uses it.
func secretRole(t *testing.T, dbDSN, password string) string {
	t.Helper()
	admin := os.Getenv(testpg.EnvDSN)
	if admin == "" {
		admin = testpg.DefaultDSN
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	role := fmt.Sprintf("collide_secret_%d", rand.IntN(1e9))
	u, err := url.Parse(dbDSN)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	for _, q := range []string{
		fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER PASSWORD '%s'", role, password),
		fmt.Sprintf("GRANT ALL ON DATABASE %s TO %s", dbName, role),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("create a role with a planted password (the test server's admin must create roles): %v", err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		adm, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer adm.Close()
		// The database is dropped by testpg's cleanup, registered earlier
		// and so run after this one: drop what the role owns first.
		if own, err := sql.Open("pgx", dbDSN); err == nil {
			own.ExecContext(ctx, "REASSIGN OWNED BY "+role+" TO CURRENT_USER")
			own.ExecContext(ctx, "DROP OWNED BY "+role)
			own.Close()
		}
		adm.ExecContext(ctx, "DROP ROLE IF EXISTS "+role)
	})
	u.User = url.UserPassword(role, password)
	return u.String()
}

// TestSecretsRedactedEverywhere plants a distinct secret through each way
// one comes in — the profile file (a header, a request body's password),
// the environment, -set (a DSN password, a cookie, a body password), a
// setup capture and an operation capture (random tokens the demo issued,
// read back from its database) — runs the profile against the in-process
// demo on PostgreSQL, then scans every file of the run folder, the run's
// stdout and stderr (progress included), and every `collide report` format
// for every one of them.
func TestSecretsRedactedEverywhere(t *testing.T) {
	dbDSN := testpg.New(t)
	dsn := secretRole(t, dbDSN, "mk-set-dsnpw-3e77")
	t.Setenv("COLLIDE_TEST_ENV_SECRET", "mk-env-session-5b81")
	dir := t.TempDir()
	file := writeFileIn(t, dir, "secrets.yaml", secretsProfile)
	out := filepath.Join(dir, "run")
	markers := map[string]string{
		"profile header":  "mk-profile-apikey-7f3a",
		"profile body":    "mk-profile-bodypw-19c2",
		"environment":     "mk-env-session-5b81",
		"-set dsn":        "mk-set-dsnpw-3e77",
		"-set cookie":     "mk-set-cookie-a4d0",
		"-set body":       "mk-set-bodypw-88e1",
		"-set header":     "mk-set-apitoken-0b6d",
		"-set target url": "mk-set-urlpw-d2f9",
		"-set bearer":     "mk-set-bearer-5a5a0c",
	}
	code, stdout, stderr := collide(t, "run", "-format", "json", "-out", out, "-seed", "7",
		"-set", "database.dsn="+dsn,
		"-set", "operations[0].flow[1].request.headers.Cookie=sid=mk-set-cookie-a4d0",
		"-set", "operations[0].flow[1].request.headers.X-Api-Token=mk-set-apitoken-0b6d",
		"-set", `operations[0].flow[0].request.body='{"user": "u-{{seq}}", "password": "mk-set-bodypw-88e1"}'`,
		"-set", "about=see http://ann:mk-set-urlpw-d2f9@127.0.0.1/x",
		"-set", "operations[1].request.headers.Authorization=Bearer mk-set-bearer-5a5a0c",
		file)
	if code != 0 && code != 1 {
		t.Fatalf("exit %d, want a verdict (0 or 1)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The tokens the demo issued: to the setup login and to every op.
	tokens := demoTokens(t, dbDSN)
	if len(tokens) < 2 {
		t.Fatalf("the demo issued %d tokens, want the setup's and the ops'", len(tokens))
	}
	for i, tok := range tokens {
		markers[fmt.Sprintf("captured token %d", i)] = tok
	}

	texts := map[string]string{"run stdout": stdout, "run stderr": stderr}
	for _, f := range []string{"table", "markdown", "junit", "html"} {
		c, o, e := collide(t, "report", "-format", f, out)
		if c != 0 {
			t.Fatalf("report -format %s: exit %d: %s", f, c, e)
		}
		texts["report "+f] = o + e
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		texts[e.Name()] = string(b)
	}
	for _, want := range []string{"result.json", "history.jsonl", "results.bin"} {
		if texts[want] == "" {
			t.Fatalf("run folder lacks %s (has %d files)", want, len(entries))
		}
	}
	t.Logf("%d secrets (%d captured tokens) looked for in %d outputs: %s", len(markers), len(tokens), len(texts), strings.Join(slices.Sorted(maps.Keys(texts)), ", "))
	for where, text := range texts {
		for path, m := range markers {
			if strings.Contains(text, m) {
				t.Errorf("%s holds the secret planted through %s (%s)", where, path, m)
			}
		}
	}
	// What is redacted stays recognizable: the header names and the
	// placeholder are there.
	if !strings.Contains(texts["result.json"], "X-Api-Key") || !strings.Contains(texts["result.json"], "REDACTED") {
		t.Errorf("result.json lost the redacted header's name or the placeholder")
	}
}

// TestSecretsInErrors: a DSN whose password is refused ends the run with an
// error (exit 3) whose every copy — stderr, result.json, every report —
// hides the password.
func TestSecretsInErrors(t *testing.T) {
	dbDSN := testpg.New(t)
	u, err := url.Parse(dbDSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("collide", "mk-refused-dsnpw-6c0e")
	dir := t.TempDir()
	file := writeFileIn(t, dir, "secrets.yaml", secretsProfile)
	out := filepath.Join(dir, "run")
	t.Setenv("COLLIDE_TEST_ENV_SECRET", "mk-env-session-5b81")
	code, stdout, stderr := collide(t, "run", "-out", out, "-set", "database.dsn="+u.String(), file)
	if code != 3 {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	texts := map[string]string{"run stdout": stdout, "run stderr": stderr}
	for _, f := range []string{"table", "markdown", "junit", "html"} {
		_, o, e := collide(t, "report", "-format", f, out)
		texts["report "+f] = o + e
	}
	b, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	texts["result.json"] = string(b)
	if !strings.Contains(stderr, "password authentication failed") {
		t.Errorf("stderr does not say why the run failed:\n%s", stderr)
	}
	for where, text := range texts {
		if strings.Contains(text, "mk-refused-dsnpw-6c0e") {
			t.Errorf("%s holds the DSN's password", where)
		}
	}
}

// demoTokens lists the tokens the demo stored in its database.
func demoTokens(t *testing.T, dsn string) []string {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT token FROM tokens")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func writeFileIn(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretsInProfileErrors: a profile error (exit 2) that quotes the
// value it refuses hides the secret in it, from the file and from -set.
func TestSecretsInProfileErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFileIn(t, dir, "bad.yaml", "name: bad\ntarget: {url: \"http://ann:mk-file-urlpw-41@127.0.0.1:bad/\"}\n"+
		"database: {driver: sqlite, dsn: x.db}\noperations: [{name: a, request: {method: GET, url: /}, rate: 1/s, duration: 1s}]\n"+
		"invariants: [{name: n, query: SELECT 1 AS n, expect: n == 1}]\n")
	cases := []struct {
		name   string
		args   []string
		secret string
	}{
		{"in the file", []string{"run", file}, "mk-file-urlpw-41"},
		{"with -set", []string{"run", "-set", `target={url: "http://ann:mk-set-urlpw-42@127.0.0.1:bad/"}`, "counter"}, "mk-set-urlpw-42"},
		{"validate", []string{"validate", file}, "mk-file-urlpw-41"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 2 || !strings.Contains(stdout+stderr, "invalid URL") {
				t.Fatalf("exit %d, want 2 naming the invalid URL\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, tc.secret) {
				t.Fatalf("the error shows the password:\n%s%s", stdout, stderr)
			}
		})
	}
}
