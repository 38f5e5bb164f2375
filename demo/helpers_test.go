package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/internal/testmysql"
	"github.com/collide-dev/collide/internal/testpg"
)

// backend is one real database the tests run against.
type backend struct {
	driver     string
	dsn        func(t *testing.T) string // a fresh, private database
	burstConns int                       // Config.MaxConns for the concurrency tests
}

// The PostgreSQL and MariaDB pools of the concurrency tests are 16, not the default 32,
// because the test server's 100 connections are shared with the other
// packages' tests running at the same time; the functional tests use 2.
var backends = []backend{
	{driverSQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "demo.db") }, 0},
	{driverPostgres, func(t *testing.T) string { return testpg.New(t) }, 16},
	{driverMySQL, func(t *testing.T) string { return testmysql.New(t) }, 16},
}

var modes = []string{modeRacy, modeSafe}

// testClient keeps enough idle connections for the bursts below, so they do
// not reconnect on every request.
var testClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
}

// serve opens a service with a pool of 2 connections on a fresh database
// of b and serves it; both are closed when the test ends.
func serve(t *testing.T, b backend, mode string, think time.Duration) (*Service, *httptest.Server) {
	t.Helper()
	return serveDSN(t, Config{Mode: mode, Driver: b.driver, DSN: b.dsn(t), Think: think, MaxConns: 2})
}

// serveBurst is serve with the full pool of b's concurrency tests.
func serveBurst(t *testing.T, b backend, mode string, think time.Duration) (*Service, *httptest.Server) {
	t.Helper()
	return serveDSN(t, Config{Mode: mode, Driver: b.driver, DSN: b.dsn(t), Think: think, MaxConns: b.burstConns})
}

func serveDSN(t *testing.T, cfg Config) (*Service, *httptest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, srv
}

// exec runs SQL (written with ? placeholders) on the service's database.
func exec(t *testing.T, s *Service, query string, args ...any) {
	t.Helper()
	if _, err := s.db.ExecContext(context.Background(), s.dialect.q(query), args...); err != nil {
		t.Fatalf("exec %q: %v", query, err)
	}
}

// count runs a SELECT COUNT(*)-like query returning one integer.
func count(t *testing.T, s *Service, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.db.QueryRowContext(context.Background(), s.dialect.q(query), args...).Scan(&n); err != nil {
		t.Fatalf("query %q: %v", query, err)
	}
	return n
}

// response is one HTTP exchange's outcome.
type response struct {
	status int
	ctype  string
	header http.Header
	body   []byte
	err    error // transport error; status is 0
}

// call sends one request; header may be nil, body may be "".
func call(method, url string, header map[string]string, body string) response {
	return callWith(testClient, method, url, header, body)
}

// callWith is call with the given client.
func callWith(c *http.Client, method, url string, header map[string]string, body string) response {
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return response{err: err}
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), header: resp.Header, body: b, err: err}
}

// mustCall sends one request and fails the test on a transport error.
func mustCall(t *testing.T, method, url string, header map[string]string, body string) response {
	t.Helper()
	r := call(method, url, header, body)
	if r.err != nil {
		t.Fatalf("%s %s: %v", method, url, r.err)
	}
	return r
}

// decode unmarshals a response body, failing the test if it is not JSON.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response %d %q is not the expected JSON: %v", r.status, r.body, err)
	}
	return v
}

// warmClient opens n keep-alive connections from testClient to srv, so a
// following burst is not spread out by TCP connection setup.
func warmClient(t *testing.T, srv *httptest.Server, n int) {
	t.Helper()
	for _, r := range burst(n, n, func(int) response { return call(http.MethodGet, srv.URL+"/healthz", nil, "") }) {
		if r.status != http.StatusOK {
			t.Fatalf("warm-up healthz: %d %v %s", r.status, r.err, r.body)
		}
	}
}

// burst sends total requests from workers goroutines, all released at once,
// and returns the responses in completion order. req builds request i.
func burst(total, workers int, req func(i int) response) []response {
	jobs := make(chan int, total)
	for i := range total {
		jobs <- i
	}
	close(jobs)
	start := make(chan struct{})
	var (
		mu  sync.Mutex
		out = make([]response, 0, total)
		wg  sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			<-start
			for i := range jobs {
				r := req(i)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// statusCounts tallies responses by status (0 = transport error).
func statusCounts(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}
