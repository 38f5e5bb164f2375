package discover_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/postgres" // registers the driver
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/stacks"
)

// demoBehindTap starts the racy demo on a private PostgreSQL database whose
// link goes through a recording tap; it returns the demo's base URL and the
// recorder. Everything stops when the test ends.
func demoBehindTap(t *testing.T) (string, *tap.Recorder) {
	t.Helper()
	dsn := testpg.New(t)
	drv, err := database.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	_, upstream, err := drv.Address(dsn)
	if err != nil {
		t.Fatal(err)
	}
	rec := tap.NewRecorder(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tp, err := tap.Start(context.Background(), tap.Config{Name: "database", Upstream: upstream, Protocol: tap.Postgres, Recorder: rec})
	if err != nil {
		t.Fatalf("start tap: %v", err)
	}
	t.Cleanup(func() { tp.Close() })
	through, err := drv.Through(dsn, tp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	d, err := stacks.StartDemo(ctx, demo.Config{Mode: "racy", Driver: "postgres", DSN: through, MaxConns: 4})
	if err != nil {
		t.Fatalf("start demo: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close demo: %v", err)
		}
	})
	return d.URL(), rec
}

func hasStatement(tr discover.Trace, prefix string) bool {
	for _, s := range tr.Statements {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s.Text)), prefix) {
			return true
		}
	}
	return false
}

func TestDriveTracesEachRequestAlone(t *testing.T) {
	base, rec := demoBehindTap(t)
	reqs := []discover.Request{
		{ID: "t:incr", Endpoint: "POST /counters/{id}/increment", Method: "POST", URL: "/counters/1/increment", Source: "test: incr"},
		{ID: "t:get", Endpoint: "GET /counters/{id}", Method: "GET", URL: "/counters/1", Source: "test: get"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	traces, err := discover.Drive(ctx, discover.DriveConfig{BaseURL: base, Recorder: rec, Requests: reqs, Quiet: 30 * time.Millisecond})
	if err != nil {
		t.Fatalf("Drive: %v", err)
	}
	if len(traces) != 2 {
		t.Fatalf("got %d traces, want 2", len(traces))
	}
	incr, get := traces[0], traces[1]
	for _, tr := range traces {
		t.Logf("%s: %d: %q", tr.Request.ID, tr.Status, texts(tr))
		if tr.Status != http.StatusOK || tr.Err != "" {
			t.Errorf("%s: status %d, err %q; want 200", tr.Request.ID, tr.Status, tr.Err)
		}
		for _, s := range tr.Statements {
			if s.Start.Before(tr.Start) || s.End.After(tr.End) {
				t.Errorf("%s: statement %q outside the trace's window", tr.Request.ID, s.Text)
			}
		}
	}
	if incr.Request.ID != "t:incr" || !hasStatement(incr, "UPDATE") || !hasStatement(incr, "SELECT") {
		t.Errorf("increment trace: want its SELECT and UPDATE of counters, got %v", texts(incr))
	}
	if hasStatement(get, "UPDATE") || !hasStatement(get, "SELECT") {
		t.Errorf("get trace: want a SELECT and no UPDATE, got %v", texts(get))
	}
	if !get.Start.After(incr.End) {
		t.Errorf("the second request started (%v) before the first's window ended (%v)", get.Start, incr.End)
	}
	type id struct {
		conn uint64
		seq  int
	}
	seen := map[id]bool{}
	for _, s := range incr.Statements {
		seen[id{s.ConnID, s.Seq}] = true
	}
	for _, s := range get.Statements {
		if seen[id{s.ConnID, s.Seq}] {
			t.Errorf("statement %q is in both traces", s.Text)
		}
	}
}

func texts(tr discover.Trace) []string {
	var out []string
	for _, s := range tr.Statements {
		out = append(out, s.Text)
	}
	return out
}

// TestDriveSetupFirstWithCookies: setup requests go first whatever their
// place in the list, a cookie a setup response sets is sent with the later
// requests, and an absolute URL (a HAR entry) is sent to the base URL.
func TestDriveSetupFirstWithCookies(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("session")
		mu.Lock()
		if c != nil {
			got = append(got, r.Method+" "+r.URL.Path+" session="+c.Value)
		} else {
			got = append(got, r.Method+" "+r.URL.Path)
		}
		mu.Unlock()
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	reqs := []discover.Request{
		{ID: "a", Method: "POST", URL: "https://shop.example.com/orders?x=1", Body: []byte(`{}`)},
		{ID: "login", Method: "POST", URL: "/login", Setup: true},
		{ID: "b", Method: "GET", URL: "/orders/7"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traces, err := discover.Drive(ctx, discover.DriveConfig{BaseURL: srv.URL, Recorder: tap.NewRecorder(16), Requests: reqs, Quiet: time.Millisecond})
	if err != nil {
		t.Fatalf("Drive: %v", err)
	}
	want := []string{"POST /login", "POST /orders session=s1", "GET /orders/7 session=s1"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("the service saw %q, want %q", got, want)
	}
	var ids []string
	for _, tr := range traces {
		ids = append(ids, tr.Request.ID)
		if tr.Status != http.StatusNoContent {
			t.Errorf("%s: status %d, want 204", tr.Request.ID, tr.Status)
		}
	}
	if strings.Join(ids, ",") != "login,a,b" {
		t.Errorf("traces in order %v, want login, a, b", ids)
	}
}

func TestDriveRefuses(t *testing.T) {
	many := make([]discover.Request, discover.MaxRequests+1)
	cases := []struct {
		name string
		cfg  discover.DriveConfig
		want string
	}{
		{"no recorder", discover.DriveConfig{BaseURL: "http://127.0.0.1:1"}, "no recorder"},
		{"relative base", discover.DriveConfig{BaseURL: "/x", Recorder: tap.NewRecorder(1)}, "absolute http"},
		{"remote base", discover.DriveConfig{BaseURL: "http://192.0.2.1:80", Recorder: tap.NewRecorder(1)}, "not on loopback"},
		{"too many", discover.DriveConfig{BaseURL: "http://127.0.0.1:1", Recorder: tap.NewRecorder(1), Requests: many}, "at most"},
		{"bad url", discover.DriveConfig{BaseURL: "http://127.0.0.1:1", Recorder: tap.NewRecorder(1),
			Requests: []discover.Request{{URL: "http://[::1", Source: "x.har: entry 0"}}}, "x.har: entry 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := discover.Drive(context.Background(), c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestDriveUnreachable: a request without a response is a trace with
// status 0 and the reason; the drive goes on and is bounded in time.
func TestDriveUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traces, err := discover.Drive(ctx, discover.DriveConfig{BaseURL: base, Recorder: tap.NewRecorder(1),
		Requests: []discover.Request{{ID: "a", URL: "/"}, {ID: "b", URL: "/"}}, Quiet: time.Millisecond, RequestTimeout: time.Second})
	if err != nil {
		t.Fatalf("Drive: %v", err)
	}
	if len(traces) != 2 || traces[0].Status != 0 || traces[0].Err == "" {
		t.Fatalf("traces %+v: want 2, status 0 with the reason", traces)
	}
}

// TestDriveCaptures: a value a setup response carries (a login's token) is
// captured and rendered into the later requests; a missing one is the
// trace's error.
func TestDriveCaptures(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/login" {
			w.Write([]byte(`{"token": "t-42", "user": {"id": 7}}`))
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	// The stand-in of Request.Render: {{name}} → its value.
	render := func(r discover.Request, vars map[string]string) (discover.Request, error) {
		for k, v := range vars {
			r.URL = strings.ReplaceAll(r.URL, "{{"+k+"}}", v)
			h := http.Header{}
			for name, vs := range r.Header {
				for _, x := range vs {
					h.Add(name, strings.ReplaceAll(x, "{{"+k+"}}", v))
				}
			}
			r.Header = h
		}
		return r, nil
	}
	captures := map[string]map[string]string{"login": {"token": "token", "user": "user.id"}, "bad": {"nope": "missing.path"}}
	reqs := []discover.Request{
		{ID: "login", Method: "POST", URL: "/login", Setup: true},
		{ID: "bad", Method: "GET", URL: "/x", Setup: true},
		{ID: "fav", Method: "POST", URL: "/users/{{user}}/favorite", Header: http.Header{"Authorization": {"Bearer {{token}}"}}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	traces, err := discover.Drive(ctx, discover.DriveConfig{BaseURL: srv.URL, Recorder: tap.NewRecorder(16), Requests: reqs,
		Quiet: time.Millisecond, Render: render, Captures: func(r discover.Request) map[string]string { return captures[r.ID] }})
	if err != nil {
		t.Fatalf("Drive: %v", err)
	}
	if want := "/login ; /x ; /users/7/favorite Bearer t-42"; strings.Join(auth, "; ") != want {
		t.Errorf("the service saw %q, want %q", strings.Join(auth, "; "), want)
	}
	if traces[1].Status != http.StatusOK || !strings.Contains(traces[1].Err, "no nope in the response") {
		t.Errorf("trace of the bad capture: status %d, err %q", traces[1].Status, traces[1].Err)
	}
	if traces[2].Request.URL != "/users/{{user}}/favorite" {
		t.Errorf("the trace holds the rendered request %q, want it as given", traces[2].Request.URL)
	}
}
