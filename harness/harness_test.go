package harness

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

const counterProfile = `
name: harness-test
target:
  demo: {mode: safe, think: 0s}
database:
  driver: sqlite
setup:
  - DELETE FROM counters
  - INSERT INTO counters(id, value) VALUES (1, 0)
chaos:
  - {link: target, fault: latency, latency: 5ms}
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    rate: 50/s
    duration: 1s
invariants:
  - name: counted
    query: SELECT value FROM counters WHERE id = 1
    expect: value >= ok("incr") && value <= ok("incr") + unknown("incr")
`

func parse(t *testing.T, yaml string, sets ...string) *profiles.Profile {
	t.Helper()
	p, err := profiles.Parse("test.yaml", []byte(yaml), sets)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// toxiproxy starts a toxiproxy API the test can inspect, standing in for an
// external server.
func toxiproxy(t *testing.T) string {
	t.Helper()
	srv, err := chaos.StartEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.URL()
}

// assertNothingLeft checks through the toxiproxy API that no proxy (and so
// no toxic) of the run remains.
func assertNothingLeft(t *testing.T, api string, res *report.Result) {
	t.Helper()
	proxies, err := toxiclient.NewClient(api).Proxies()
	if err != nil {
		t.Fatal(err)
	}
	for name := range proxies {
		if strings.Contains(name, res.RunID) {
			t.Fatalf("proxy %s of run %s still exists", name, res.RunID)
		}
	}
}

func readResult(t *testing.T, dir string) *report.Result {
	t.Helper()
	res, err := report.ReadFile(dir)
	if err != nil {
		t.Fatalf("result.json not readable: %v", err)
	}
	return res
}

func TestPassingRunWritesResultAndHistory(t *testing.T) {
	api := toxiproxy(t)
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile), OutDir: out, ToxiproxyURL: api, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != report.Pass || res.ExitCode != 0 || res.Seed != 7 {
		t.Fatalf("verdict %s exit %d seed %d", res.Verdict, res.ExitCode, res.Seed)
	}
	disk := readResult(t, out)
	if disk.Verdict != report.Pass || disk.Totals.Total() != res.Totals.Total() || disk.Totals.Total() == 0 {
		t.Fatalf("result.json disagrees: %+v", disk.Totals)
	}
	if st, err := os.Stat(filepath.Join(out, HistoryFile)); err != nil || st.Size() == 0 {
		t.Fatalf("history missing or empty: %v", err)
	}
	if st, err := os.Stat(filepath.Join(out, report.VegetaFile)); err != nil || st.Size() == 0 || disk.VegetaResults != report.VegetaFile {
		t.Fatalf("vegeta results missing: %v (result says %q)", err, disk.VegetaResults)
	}
	assertNothingLeft(t, api, res)
}

// TestPanicStillCleansUp: a panic mid-run becomes an error verdict, the
// result is written and every toxic and proxy is removed.
func TestPanicStillCleansUp(t *testing.T) {
	api := toxiproxy(t)
	testHook = func(stage string) {
		if stage == "attacked" {
			panic("injected by test")
		}
	}
	defer func() { testHook = nil }()
	out := t.TempDir()
	res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile), OutDir: out, ToxiproxyURL: api})
	if err == nil || !strings.Contains(err.Error(), "panic: injected by test") {
		t.Fatalf("err = %v, want the panic", err)
	}
	if ErrorExitCode(err) != ExitEnv || res.Verdict != report.Error {
		t.Fatalf("verdict %s, exit %d", res.Verdict, ErrorExitCode(err))
	}
	if disk := readResult(t, out); disk.Verdict != report.Error || !strings.Contains(disk.Error, "panic") {
		t.Fatalf("result.json: verdict %s error %q", disk.Verdict, disk.Error)
	}
	assertNothingLeft(t, api, res)
}

// TestInterruptedRun: cancelling mid-attack (what SIGINT does) gives an
// interrupted verdict, keeps the history so far and removes every toxic.
func TestInterruptedRun(t *testing.T) {
	api := toxiproxy(t)
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	testHook = func(stage string) {
		if stage == "attack" {
			time.AfterFunc(300*time.Millisecond, cancel)
		}
	}
	defer func() { testHook = nil }()
	res, err := Run(ctx, Options{Profile: parse(t, counterProfile, "operations[0].duration=20s"), OutDir: out, ToxiproxyURL: api})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Verdict != report.Interrupted || res.ExitCode != ExitSignal {
		t.Fatalf("verdict %s exit %d", res.Verdict, res.ExitCode)
	}
	disk := readResult(t, out)
	if disk.Verdict != report.Interrupted || disk.Totals.Total() == 0 {
		t.Fatalf("result.json: verdict %s, %d ops", disk.Verdict, disk.Totals.Total())
	}
	if took := disk.Finished.Sub(disk.Started); took > 10*time.Second {
		t.Fatalf("interrupted run took %v", took)
	}
	assertNothingLeft(t, api, res)
}

// TestToxicThatCannotBeApplied: when the server refuses a scheduled toxic
// (here: someone deleted the run's proxy), the run ends in error (exit 3),
// never pass, and keeps its history.
func TestToxicThatCannotBeApplied(t *testing.T) {
	api := toxiproxy(t)
	tc := toxiclient.NewClient(api)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			ps, _ := tc.Proxies()
			for _, p := range ps {
				if strings.HasPrefix(p.Name, "collide-") {
					p.Delete()
					return
				}
			}
		}
	}()
	out := t.TempDir()
	res, err := Run(context.Background(), Options{
		Profile: parse(t, counterProfile, "chaos[0].from=500ms", "operations[0].duration=2s"), OutDir: out, ToxiproxyURL: api})
	var ee *EnvError
	if !errors.As(err, &ee) || ee.Stage != "chaos" {
		t.Fatalf("err = %v, want a chaos EnvError", err)
	}
	if res.Verdict != report.Error || readResult(t, out).Verdict != report.Error {
		t.Fatalf("verdict %s", res.Verdict)
	}
	assertNothingLeft(t, api, res)
}

// TestEnvironmentFaults: the target dying mid-run, SQL failing at setup or
// at check time, the database vanishing before the check: error (exit 3)
// with the cause, never pass, result kept.
func TestEnvironmentFaults(t *testing.T) {
	urlProfile := func(url, dsn string) string {
		return `
name: env-fault
target:
  url: ` + url + `
database:
  driver: sqlite
  dsn: ` + dsn + `
operations:
  - name: get
    request: {method: GET, url: /}
    rate: 50/s
    duration: 1s
invariants:
  - name: anything
    expect: ok("get") >= 0
`
	}
	t.Run("target down mid-run", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		time.AfterFunc(300*time.Millisecond, func() { srv.CloseClientConnections(); srv.Close() })
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, urlProfile(srv.URL, filepath.Join(out, "x.db"))), OutDir: out})
		if err == nil || !strings.Contains(err.Error(), "went down") || res.Verdict != report.Error {
			t.Fatalf("err = %v, verdict %s", err, res.Verdict)
		}
	})
	t.Run("setup SQL fails", func(t *testing.T) {
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile, "setup[0]=DELETE FROM no_such_table"), OutDir: out, ToxiproxyURL: toxiproxy(t)})
		if err == nil || !strings.Contains(err.Error(), "setup[0]") || res.Verdict != report.Error {
			t.Fatalf("err = %v, verdict %s", err, res.Verdict)
		}
	})
	t.Run("check SQL fails", func(t *testing.T) {
		// The query prepares (a missing table would stop the run before
		// the attack, exit 2: TestRunPreparesQueriesBeforeTheAttack) but
		// fails when it runs: SQLite's abs() of the smallest integer.
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile, "invariants[0].query=SELECT value FROM counters WHERE id = 1 AND abs(-9223372036854775808) > 0"), OutDir: out, ToxiproxyURL: toxiproxy(t)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != report.Error || res.ExitCode != ExitEnv || res.Invariants[0].Verdict != "error" {
			t.Fatalf("verdict %s exit %d invariant %+v", res.Verdict, res.ExitCode, res.Invariants[0])
		}
	})
	t.Run("database gone at check time", func(t *testing.T) {
		dsn := testpg.New(t)
		testHook = func(stage string) {
			if stage != "attacked" {
				return
			}
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			if _, err := db.Exec("DROP TABLE counters"); err != nil {
				t.Error(err)
			}
		}
		defer func() { testHook = nil }()
		out := t.TempDir()
		res, err := Run(context.Background(), Options{Profile: parse(t, counterProfile, "database.driver=postgres", "database.dsn="+dsn), OutDir: out, ToxiproxyURL: toxiproxy(t)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != report.Error || readResult(t, out).Verdict != report.Error {
			t.Fatalf("verdict %s, want error", res.Verdict)
		}
	})
}

func TestSecretsRedacted(t *testing.T) {
	p := parse(t, counterProfile,
		"operations[0].request.headers={Authorization: Bearer hunter2, X-Api-Key: hunter2, X-Trace: visible}",
		"database.driver=postgres", "database.dsn=postgres://u:hunter2@127.0.0.1:1/db")
	out := t.TempDir()
	_, err := Run(context.Background(), Options{Profile: p, OutDir: out})
	if err == nil {
		t.Fatal("want an unreachable-database error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
	b, rerr := os.ReadFile(filepath.Join(out, ResultFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if strings.Contains(string(b), "hunter2") {
		t.Fatalf("result.json leaks a secret:\n%s", b)
	}
	if !strings.Contains(string(b), "visible") {
		t.Fatalf("non-secret header lost:\n%s", b)
	}
}

func TestRedactedProfileHidesStackSecrets(t *testing.T) {
	p := parse(t, counterProfile)
	p.Target.Demo = nil
	p.Target.Command = &profiles.CommandTarget{Env: map[string]string{
		"DATABASE_URL": "postgres://app:hunter2@127.0.0.1/db", "API_TOKEN": "hunter2", "LOG_LEVEL": "debug"}}
	p.Database.Container = &profiles.DatabaseContainer{Password: "hunter2"}
	c := redactedProfile(p)
	for k, v := range c.Target.Command.Env {
		if strings.Contains(v, "hunter2") {
			t.Fatalf("%s=%s leaks", k, v)
		}
	}
	if c.Target.Command.Env["LOG_LEVEL"] != "debug" || c.Database.Container.Password != Redacted {
		t.Fatalf("redacted too much or too little: %+v %+v", c.Target.Command.Env, c.Database.Container)
	}
	if p.Target.Command.Env["API_TOKEN"] != "hunter2" {
		t.Fatal("redaction modified the profile being run")
	}
}
