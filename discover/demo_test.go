package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all" // ReadSchema looks drivers up by name
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/internal/testpg"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// demoCase is one class endpoint of the demo, sent alone, and what the
// analysis must say of it when the demo is racy (safe: nothing).
type demoCase struct {
	profile string // the built-in profile whose request it is
	req     Request
	racy    []string // "class table" of each finding
}

// demoCases are the built-in profiles' requests, one per endpoint. The
// favorite request's {res} and {token} come from its setup requests.
var demoCases = []demoCase{
	{"counter", Request{Endpoint: "POST /counters/{id}/increment", Method: "POST", URL: "/counters/1/increment"},
		[]string{"counter counters"}},
	{"double-submit", Request{Endpoint: "POST /orders", Method: "POST", URL: "/orders",
		Header: http.Header{"Idempotency-Key": {"order-1"}}, Body: []byte(`{"item": "book"}`)},
		[]string{"double-submit orders"}},
	{"first-or-create", Request{Endpoint: "POST /resources/{id}/favorite", Method: "POST", URL: "/resources/{res}/favorite",
		Header: http.Header{"Authorization": {"Bearer {token}"}}},
		[]string{"double-submit favorites"}},
	{"toctou-debit", Request{Endpoint: "POST /accounts/{id}/debit", Method: "POST", URL: "/accounts/1/debit", Body: []byte(`{"amount": 10}`)},
		[]string{"toctou-debit accounts"}},
	{"toctou-debit", Request{Endpoint: "POST /accounts/transfer", Method: "POST", URL: "/accounts/transfer", Body: []byte(`{"from": 1, "to": 2, "amount": 10}`)},
		[]string{"toctou-debit accounts"}},
	{"oversell", Request{Endpoint: "POST /products/{id}/purchase", Method: "POST", URL: "/products/1/purchase", Body: []byte(`{"buyer": "b-1"}`)},
		[]string{"toctou-debit products"}},
	{"webhook-replay", Request{Endpoint: "POST /webhooks", Method: "POST", URL: "/webhooks", Body: []byte(`{"event_id": "ev-1", "wallet": 1, "amount": 5}`)},
		[]string{"webhook-replay webhook_events"}},
	{"out-of-order-jobs", Request{Endpoint: "POST /reports/{id}/regenerate", Method: "POST", URL: "/reports/1/regenerate", Body: []byte(`{"job": 1}`)},
		[]string{"out-of-order-jobs reports"}},
	{"two-tab-edit", Request{Endpoint: "PUT /docs/{id}", Method: "PUT", URL: "/docs/1", Body: []byte(`{"version": 0, "title": "tab 1"}`)},
		[]string{"counter docs"}},
	{"collection-add", Request{Endpoint: "POST /projects/{id}/items", Method: "POST", URL: "/projects/1/items", Body: []byte(`{"item": "a"}`)},
		[]string{"counter project_items"}},
	{"bulk-edit", Request{Endpoint: "POST /items/bulk", Method: "POST", URL: "/items/bulk", Body: []byte(`{"batch": 1, "price": 1}`)},
		[]string{"counter items"}},
	{"bulk-edit", Request{Endpoint: "POST /items/{id}/edit", Method: "POST", URL: "/items/3/edit"}, nil},
	// locks: the racy lease is check-then-upsert of its expiry; the safe
	// backend (advisory locks) leaves nothing to see.
	{"locks", Request{Endpoint: "POST /locks/{name}/run", Method: "POST", URL: "/locks/a/run", Body: []byte(`{"hold": "20ms", "ttl": "300ms"}`)},
		[]string{"counter locks"}},
	// register, stale-cache: the race is in the service's cache, which
	// sends no SQL: nothing to see in either mode.
	{"register", Request{Endpoint: "PUT /kv/{key}", Method: "PUT", URL: "/kv/k", Body: []byte(`{"value": 1}`)}, nil},
	{"register", Request{Endpoint: "GET /kv/{key}", Method: "GET", URL: "/kv/k"}, nil},
	{"stale-cache", Request{Endpoint: "PUT /cache/{key}", Method: "PUT", URL: "/cache/k", Body: []byte(`{"value": 1}`)}, nil},
	{"stale-cache", Request{Endpoint: "GET /cache/{key}", Method: "GET", URL: "/cache/k"}, nil},
}

// demoRun is the demo service on a private PostgreSQL database, behind a
// recording tap.
type demoRun struct {
	srv    *httptest.Server
	rec    *tap.Recorder
	direct database.DB
	vars   map[string]string // {res}, {token}
}

func startDemo(t *testing.T, mode string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dsn := testpg.New(t)
	d, err := database.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	_, upstream, err := d.Address(dsn)
	if err != nil {
		t.Fatal(err)
	}
	rec := tap.NewRecorder(0)
	tp, err := tap.Start(context.Background(), tap.Config{Upstream: upstream, Protocol: tap.Postgres, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tp.Close() })
	through, err := d.Through(dsn, tp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	s, err := demo.Open(ctx, demo.Config{Mode: mode, Driver: "postgres", DSN: through, MaxConns: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	direct, err := database.Open(ctx, "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		s.Close()
		direct.Close()
	})
	r := &demoRun{srv: srv, rec: rec, direct: direct, vars: map[string]string{}}
	// the favorite's setup: log in, create a resource
	var login struct{ Token string }
	r.call(t, Request{Method: "POST", URL: "/login", Body: []byte(`{"user": "alice"}`)}, &login)
	r.vars["{token}"] = login.Token
	var res struct{ ID int64 }
	r.call(t, Request{Method: "POST", URL: "/resources", Body: []byte(`{"name": "r"}`),
		Header: http.Header{"Authorization": {"Bearer {token}"}}}, &res)
	r.vars["{res}"] = fmt.Sprint(res.ID)
	return r
}

func (r *demoRun) expand(s string) string {
	for k, v := range r.vars {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// call sends req and decodes a JSON answer into out (nil: none); it
// returns the status.
func (r *demoRun) call(t *testing.T, req Request, out any) int {
	t.Helper()
	hr, err := http.NewRequest(req.Method, r.srv.URL+r.expand(req.URL), bytes.NewReader(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, r.expand(v))
		}
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v in %s", req.Method, req.URL, err, body)
		}
	}
	return resp.StatusCode
}

// trace sends req alone and returns what it made the service send.
func (r *demoRun) trace(t *testing.T, req Request) Trace {
	t.Helper()
	start := time.Now()
	status := r.call(t, req, nil)
	end := time.Now()
	return Trace{Request: req, Status: status, Start: start, End: end, Statements: r.rec.Window(start, end)}
}

// TestAnalyzeDemo drives every class endpoint of the real demo, racy and
// safe, on PostgreSQL through a chaos/tap, and analyses each request's
// statements with the schema read from the catalog: every racy endpoint
// shows its class, no safe endpoint shows anything. The racy findings are
// the golden file testdata/demo-racy.golden.json (-update rewrites it).
func TestAnalyzeDemo(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"racy", "safe"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			run := startDemo(t, mode)
			var traces []Trace
			for i := range demoCases {
				req := demoCases[i].req
				req.ID = fmt.Sprintf("profile:%s:%d", demoCases[i].profile, i)
				req.Source = "profiles/builtin/" + demoCases[i].profile + ".yaml"
				traces = append(traces, run.trace(t, req))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			schema, err := ReadSchema(ctx, run.direct)
			if err != nil {
				t.Fatal(err)
			}
			var all []Finding
			for i, tc := range demoCases {
				tr := traces[i]
				t.Run(tc.req.Endpoint, func(t *testing.T) {
					if len(tr.Statements) == 0 && !strings.Contains(tc.req.URL, "cache") {
						t.Fatalf("no statements recorded for %s", tc.req.URL)
					}
					fs := Analyze([]Trace{tr}, schema)
					all = append(all, fs...)
					got := []string{}
					for _, f := range fs {
						got = append(got, string(f.Class)+" "+f.Table)
					}
					want := tc.racy
					if mode == "safe" || want == nil {
						want = []string{}
					}
					if strings.Join(got, "|") != strings.Join(want, "|") {
						var lines []string
						for k, s := range tr.Statements {
							lines = append(lines, fmt.Sprintf("  %d. [conn %d txn %d] %s", k+1, s.ConnID, s.TxnID, redactSQL(s.Text, false)))
						}
						t.Errorf("findings %q, want %q; statements:\n%s", got, want, strings.Join(lines, "\n"))
					}
				})
			}
			if mode == "racy" {
				checkGolden(t, "demo-racy.golden.json", Analyze(traces, schema))
			}
		})
	}
}

func checkGolden(t *testing.T, name string, fs []Finding) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fs); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to rewrite it):\n%s", path, got)
	}
}
