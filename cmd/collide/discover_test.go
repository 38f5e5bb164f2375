package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/dbtest"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
)

// discoverOpenAPI is the small OpenAPI document of the tests: the demo's
// POST /counters/{id}/increment and GET /counters/{id}.
var discoverOpenAPI = filepath.Join("testdata", "discover", "openapi.json")

// withDiscoverStages restores the stages after a test that takes one
// away.
func withDiscoverStages(t *testing.T) {
	t.Helper()
	saved := discoverStages
	t.Cleanup(func() { discoverStages = saved })
}

// TestDiscoverDemoEndToEnd: collide discover on the racy demo (PostgreSQL
// behind the tap) with a two-operation OpenAPI document finds the lost
// update of the counter, writes a profile that validates, proves it once,
// and leaves nothing listening.
func TestDiscoverDemoEndToEnd(t *testing.T) {
	withDiscoverStages(t)
	dsn := testpg.New(t)
	dir := t.TempDir()
	code, stdout, stderr := collide(t, "discover", "--demo", "racy", "--openapi", discoverOpenAPI,
		"--db-driver", "postgres", "--db-dsn", dsn, "--write", dir, "--prove", "1", "--format", "json", "--gap", "30ms")
	t.Logf("stderr:\n%s", stderr)
	var findings []discover.Finding
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Fatalf("stdout is not the findings array: %v\n%s", err, stdout)
	}
	var counter *discover.Finding
	for i, f := range findings {
		if f.Class == discover.LostUpdate && f.Table == "counters" {
			counter = &findings[i]
		}
	}
	if counter == nil {
		t.Fatalf("no lost update on counters among %+v", findings)
	}
	proved := regexp.MustCompile(counter.ID + `  proved (\d)/1`).FindStringSubmatch(stderr)
	switch {
	case proved == nil:
		t.Errorf("no \"proved k/1\" line for %s", counter.ID)
	case proved[1] == "1" && code != harness.ExitFail, proved[1] == "0" && code != 0:
		t.Errorf("exit %d after proved %s/1; want 1 when proved, else 0", code, proved[1])
	}
	file := filepath.Join(dir, counter.ID+"-counter.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("profile not written: %v", err)
	}
	if strings.Contains(string(data), "collide:collide") {
		t.Errorf("the profile holds the DSN's password:\n%s", data)
	}
	t.Setenv(discover.EnvDSN, dsn)
	p, err := profiles.Parse(file, data, nil)
	if err == nil {
		err = harness.Validate(p)
	}
	if err != nil {
		t.Errorf("the written profile does not validate: %v\n%s", err, data)
	}
	// The tap is stopped: its address refuses connections.
	if m := regexp.MustCompile(`through the tap (127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr); m == nil {
		t.Errorf("stderr names no tap address")
	} else if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Errorf("the tap %s still accepts connections after discover returned", m[1])
	}
}

// TestDiscoverTargetNotReady: with --target, a service that never connects
// through the tap is an environment failure (exit 3) after --ready.
func TestDiscoverTargetNotReady(t *testing.T) {
	withDiscoverStages(t)
	dsn := testpg.New(t)
	start := time.Now()
	code, _, stderr := collide(t, "discover", "--target", "http://127.0.0.1:1", "--openapi", discoverOpenAPI,
		"--db-driver", "postgres", "--db-dsn", dsn, "--ready", "200ms")
	if code != harness.ExitEnv || !strings.Contains(stderr, "no connection through the tap") {
		t.Errorf("exit %d, stderr %q; want 3 and the reason", code, stderr)
	}
	if !strings.Contains(stderr, "point your service's database at the tap") || strings.Contains(stderr, "collide:collide@") {
		t.Errorf("stderr %q: want the tap's DSN, password redacted", stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestDiscoverBadInput(t *testing.T) {
	withDiscoverStages(t)
	pg := "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable"
	base := []string{"discover", "--demo", "racy", "--db-driver", "postgres", "--db-dsn", pg}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{"discover", "--target", "http://127.0.0.1:8080", "--db-driver", "postgres", "--db-dsn", pg}, "name one source"},
		{"remote document", append(base, "--openapi", "http://192.0.2.1/openapi.json"), "not on loopback"},
		{"two sources", append(base, "--har", "a.har", "--openapi", discoverOpenAPI), "name one source"},
		{"no service", []string{"discover", "--openapi", discoverOpenAPI, "--db-driver", "postgres", "--db-dsn", pg}, "name one service"},
		{"both services", append(base, "--openapi", discoverOpenAPI, "--target", "http://127.0.0.1:8080"), "name one service"},
		{"bad demo mode", []string{"discover", "--demo", "chaotic", "--openapi", discoverOpenAPI, "--db-driver", "postgres", "--db-dsn", pg}, "unknown mode"},
		{"no driver", []string{"discover", "--demo", "racy", "--openapi", discoverOpenAPI, "--db-dsn", pg}, "--db-driver is required"},
		{"sqlite", []string{"discover", "--demo", "racy", "--openapi", discoverOpenAPI, "--db-driver", "sqlite", "--db-dsn", "x.db"}, "want postgres or mysql"},
		{"no dsn", []string{"discover", "--demo", "racy", "--openapi", discoverOpenAPI, "--db-driver", "postgres"}, "--db-dsn is required"},
		{"prove without write", append(base, "--openapi", discoverOpenAPI, "--prove", "2"), "name a folder with --write"},
		{"bad format", append(base, "--openapi", discoverOpenAPI, "--format", "html"), `--format "html"`},
		{"missing file", append(base, "--openapi", "nope.json"), "--openapi nope.json: no such file"},
		{"remote target", []string{"discover", "--target", "http://192.0.2.1:8080", "--openapi", discoverOpenAPI, "--db-driver", "postgres", "--db-dsn", pg}, "not on loopback"},
		{"argument", append(base, "--openapi", discoverOpenAPI, "extra"), "takes no argument"},
		{"remote database", []string{"discover", "--demo", "racy", "--openapi", discoverOpenAPI, "--db-driver", "postgres",
			"--db-dsn", "postgres://collide:collide@192.0.2.1:5432/collide"}, "not a loopback IP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, c.args...)
			if code != harness.ExitUsage || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line containing %q", code, stderr, c.want)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Contains(stderr, "collide:collide@") {
				t.Errorf("stderr shows the password: %q", stderr)
			}
		})
	}
}

// TestDiscoverFormats: the findings as a table (with --show-params, the
// statements of each finding's request with their values) and as Markdown.
func TestDiscoverFormats(t *testing.T) {
	withDiscoverStages(t)
	cases := []struct {
		name string
		args []string
		want []*regexp.Regexp
	}{
		{"table with params", []string{"--format", "table", "--show-params"}, []*regexp.Regexp{
			regexp.MustCompile(`(?m)^ID +ENDPOINT +CLASS +TABLE +WHY +CHECKER$`),
			regexp.MustCompile(`(?m)^F-\w+ +POST /counters/\{id\}/increment +counter +counters `),
			regexp.MustCompile(`(?m)^  \d\. UPDATE counters SET value = \$1 WHERE id = \$2  \[\d+, 1\]$`),
			regexp.MustCompile(`(?m)^\d+ findings? in 2 requests$`),
		}},
		{"markdown", []string{"--format", "markdown"}, []*regexp.Regexp{
			regexp.MustCompile(`(?m)^\| id \| endpoint \| class \| table \| why \| checker \|$`),
			regexp.MustCompile("(?m)^\\| F-\\w+ \\| `POST /counters/\\{id\\}/increment` \\| counter \\| counters \\| "),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"discover", "--demo", "racy", "--openapi", discoverOpenAPI,
				"--db-driver", "postgres", "--db-dsn", testpg.New(t), "--gap", "20ms"}, c.args...)
			code, stdout, stderr := collide(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, re := range c.want {
				if !re.MatchString(stdout) {
					t.Errorf("stdout does not match %s:\n%s", re, stdout)
				}
			}
			if c.name == "markdown" && regexp.MustCompile(`\[\d+, 1\]`).MatchString(stdout) {
				t.Errorf("parameter values shown without --show-params:\n%s", stdout)
			}
		})
	}
}

// TestDiscoverInterrupted: an interrupt while waiting for the service
// stops the tap and exits 130.
func TestDiscoverInterrupted(t *testing.T) {
	withDiscoverStages(t)
	dsn := testpg.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(300*time.Millisecond, cancel)
	defer timer.Stop()
	var stdout, stderr strings.Builder
	code := dispatch(ctx, []string{"discover", "--target", "http://127.0.0.1:1", "--openapi", discoverOpenAPI,
		"--db-driver", "postgres", "--db-dsn", dsn, "--ready", "30s"}, &stdout, &stderr)
	if code != harness.ExitSignal {
		t.Fatalf("exit %d, want 130\n%s", code, stderr.String())
	}
	m := regexp.MustCompile(`at the tap (127\.0\.0\.1:\d+)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("stderr names no tap address:\n%s", stderr.String())
	}
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Errorf("the tap %s still accepts connections after the interrupt", m[1])
	}
}

// TestDiscoverOpenAPIURL: the document may be fetched from a loopback URL;
// one that does not answer 200 is an environment failure.
func TestDiscoverOpenAPIURL(t *testing.T) {
	withDiscoverStages(t)
	doc, err := os.ReadFile(discoverOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/openapi.json" {
			http.NotFound(w, r)
			return
		}
		w.Write(doc)
	}))
	defer srv.Close()
	dsn := testpg.New(t)
	cases := []struct {
		name   string
		url    string
		code   int
		stdout string
		stderr string
	}{
		{"served", srv.URL + "/openapi.json", 0, "POST /counters/{id}/increment", "200  GET /counters/1"},
		{"not found", srv.URL + "/nope.json", harness.ExitEnv, "", "status 404"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, "discover", "--demo", "racy", "--openapi", c.url, "--db-driver", "postgres", "--db-dsn", dsn, "--gap", "20ms")
			if code != c.code || !strings.Contains(stdout, c.stdout) || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, c.code, c.stdout, c.stderr)
			}
		})
	}
}

// TestDiscoverDemoDocument: with --demo and no source, the requests come
// from the demo's own /openapi.json (served once the demo has it).
func TestDiscoverDemoDocument(t *testing.T) {
	withDiscoverStages(t)
	code, stdout, stderr := collide(t, "discover", "--demo", "racy", "--db-driver", "postgres", "--db-dsn", testpg.New(t), "--gap", "10ms")
	if code == harness.ExitEnv && strings.Contains(stderr, "/openapi.json: status 404") {
		t.Skip("this build's demo serves no /openapi.json yet")
	}
	if code != 0 || !strings.Contains(stdout, "findings in") && !strings.Contains(stdout, "finding in") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestDiscoverStageMissing: a build without a source stage says so and
// exits 3, having started nothing.
func TestDiscoverStageMissing(t *testing.T) {
	withDiscoverStages(t)
	discoverStages.fromHAR = nil
	code, _, stderr := collide(t, "discover", "--demo", "racy", "--har", "x.har", "--db-driver", "postgres",
		"--db-dsn", "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable")
	if code != harness.ExitEnv || !strings.Contains(stderr, "cannot read --har yet") || strings.Contains(stderr, "tap") {
		t.Errorf("exit %d, stderr %q; want 3, the missing stage named, nothing started", code, stderr)
	}
}

// syncBuffer is a strings.Builder safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDiscoverTarget: with --target, discover prints the DSN through the
// tap; a service started on it (the racy demo on PostgreSQL; a small
// database/sql service on MariaDB), serving on the listener named as the
// target, is driven and its lost update found.
func TestDiscoverTarget(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		discoverTarget(t, "postgres", testpg.New(t), func(ctx context.Context, through string) (http.Handler, func()) {
			svc, err := demo.Open(ctx, demo.Config{Mode: "racy", Driver: "postgres", DSN: through, MaxConns: 2})
			if err != nil {
				t.Fatalf("start the service on the tap's DSN: %v", err)
			}
			return svc.Handler(), func() { svc.Close() }
		})
	})
	// A service that connects on its first request, configured before
	// discover starts: --tap names the tap's address, --ready 0 drives at
	// once. The same service on its database directly leaves the tap
	// without a statement: exit 3.
	t.Run("mysql", func(t *testing.T) {
		withDiscoverStages(t)
		dsn := dbtest.MySQLDatabases(t)(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := database.Open(ctx, "mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		dbtest.MustExec(t, db, "CREATE TABLE counters (id BIGINT PRIMARY KEY, value BIGINT NOT NULL)", "INSERT INTO counters VALUES (1, 0)")
		db.Close()
		free, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tapAddr := free.Addr().String()
		free.Close()
		drv, _ := database.Lookup("mysql")
		through, err := drv.Through(dsn, tapAddr)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, serviceDSN string
			code             int
			want             string
		}{
			{"through the tap", through, 0, "POST /counters/{id}/increment"},
			{"not through the tap", dsn, harness.ExitEnv, "no statement came through the tap"},
		} {
			t.Run(c.name, func(t *testing.T) {
				sdb, err := sql.Open("mysql", c.serviceDSN)
				if err != nil {
					t.Fatal(err)
				}
				defer sdb.Close()
				srv := httptest.NewServer(racyCounter(sdb))
				defer srv.Close()
				code, stdout, stderr := collide(t, "discover", "--target", srv.URL, "--openapi", discoverOpenAPI, "--db-driver", "mysql",
					"--db-dsn", dsn, "--tap", tapAddr, "--ready", "0", "--gap", "20ms")
				if code != c.code || !strings.Contains(stdout+stderr, c.want) {
					t.Errorf("exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", code, c.code, c.want, stdout, stderr)
				}
			})
		}
	})
}

// racyCounter is a read-modify-write counter service on db:
// POST /counters/{id}/increment and GET /counters/{id}.
func racyCounter(db *sql.DB) http.Handler {
	mux := http.NewServeMux()
	read := func(w http.ResponseWriter, r *http.Request) (int64, bool) {
		var v int64
		if err := db.QueryRowContext(r.Context(), "SELECT value FROM counters WHERE id = ?", r.PathValue("id")).Scan(&v); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return 0, false
		}
		return v, true
	}
	mux.HandleFunc("GET /counters/{id}", func(w http.ResponseWriter, r *http.Request) {
		if v, ok := read(w, r); ok {
			fmt.Fprintf(w, `{"value": %d}`, v)
		}
	})
	mux.HandleFunc("POST /counters/{id}/increment", func(w http.ResponseWriter, r *http.Request) {
		v, ok := read(w, r)
		if !ok {
			return
		}
		if _, err := db.ExecContext(r.Context(), "UPDATE counters SET value = ? WHERE id = ?", v+1, r.PathValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `{"value": %d}`, v+1)
	})
	return mux
}

// discoverTarget runs discover --target against a service start makes on
// the DSN through the tap, once discover has printed it.
func discoverTarget(t *testing.T, driver, dsn string, start func(ctx context.Context, through string) (http.Handler, func())) {
	withDiscoverStages(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"discover", "--target", "http://" + ln.Addr().String(), "--openapi", discoverOpenAPI,
			"--db-driver", driver, "--db-dsn", dsn, "--ready", "20s", "--gap", "20ms"}, &stdout, &stderr)
	}()
	tapAddr := regexp.MustCompile(`at the tap (127\.0\.0\.1:\d+)`)
	var m []string
	for deadline := time.Now().Add(10 * time.Second); m == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		m = tapAddr.FindStringSubmatch(stderr.String())
	}
	if m == nil {
		cancel()
		<-done
		t.Fatalf("no tap address printed:\n%s", stderr.String())
	}
	drv, _ := database.Lookup(driver)
	through, err := drv.Through(dsn, m[1])
	if err != nil {
		t.Fatal(err)
	}
	h, closeService := start(ctx, through)
	defer closeService()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // closed below
	defer srv.Close()
	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		t.Fatalf("discover did not finish:\n%s", stderr.String())
	}
	if code != 0 || !strings.Contains(stdout.String(), "POST /counters/{id}/increment") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "point the service's database back at") {
		t.Errorf("stderr does not say to point the service back:\n%s", stderr.String())
	}
}

// TestDiscoverLinkProblem: a link the tap cannot read (TLS the service
// insists on, another protocol) is named as such, not as a service that
// is not pointed at the tap.
func TestDiscoverLinkProblem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []tap.Event
		want   string
	}{
		{"tls", []tap.Event{{Kind: tap.EventConnect}, {Kind: tap.EventTLSRefused, Err: fmt.Errorf("TLS on the database link: %w", tap.ErrTLS)}}, "TLS on the database link"},
		{"other protocol", []tap.Event{{Kind: tap.EventUndecodable, Detail: "not the PostgreSQL protocol"}}, "undecodable: not the PostgreSQL protocol"},
		{"nothing wrong", []tap.Event{{Kind: tap.EventConnect}, {Kind: tap.EventClose}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := linkProblem(tc.events)
			if ok != (tc.want != "") || !strings.Contains(got, tc.want) {
				t.Errorf("linkProblem = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}
