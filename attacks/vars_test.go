package attacks

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// TestRunVars: run-wide variables render in the URL, headers and body of a
// plain request, a burst and a flow (after the flow's own captures), and
// never enter the history.
func TestRunVars(t *testing.T) {
	const token = "tok-5f3a9c1e7b"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token || !strings.HasPrefix(r.URL.Path, "/resources/42/") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"version": 3}`))
	}))
	defer srv.Close()
	auth := map[string]string{"Authorization": "Bearer {{token}}"}
	ops := map[string]profiles.Operation{
		"request": {Request: profiles.Request{Method: "POST", URL: "/resources/{{id}}/favorites", Headers: auth, Body: `{"r": {{id}}}`}},
		"burst":   {Request: profiles.Request{Method: "POST", URL: "/resources/{{id}}/favorites", Headers: auth}, Burst: &profiles.Burst{Copies: 3}},
		"flow": {Flow: []profiles.Step{
			{Name: "read", Request: profiles.Request{Method: "GET", URL: "/resources/{{id}}/doc", Headers: auth}, Capture: map[string]string{"version": "version"}},
			{Name: "write", Request: profiles.Request{Method: "PUT", URL: "/resources/{{id}}/doc?v={{version}}", Headers: auth}},
		}},
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			op.Name, op.Requests, op.Rate = name, 4, profiles.Rate{}
			if _, err := NewSpec(op); err == nil || !strings.Contains(err.Error(), "unknown placeholder") {
				t.Fatalf("without the names: err = %v, want an unknown placeholder", err)
			}
			s, err := NewSpec(op, "token", "id")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "history.jsonl")
			w, err := history.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := Run(context.Background(), Options{BaseURL: srv.URL, History: w, Rand: rand.New(rand.NewPCG(1, 2)),
				Vars: map[string]string{"token": token, "id": "42"}}, []*Spec{s})
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := ms[0]; m.OK == 0 || m.Fail+m.Unknown != 0 {
				t.Fatalf("ok %d fail %d unknown %d: the variables were not rendered", m.OK, m.Fail, m.Unknown)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), token) || strings.Contains(string(b), `"42"`) {
				t.Fatalf("history holds run-wide variables:\n%s", b)
			}
		})
	}
}

// TestRedactErrors: a transport error quotes the URL; with Options.Redact a
// secret variable in the URL does not reach the history or the metrics.
func TestRedactErrors(t *testing.T) {
	const key = "key-7c1d93ab55"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack() // drop the connection: no response
		if err == nil {
			c.Close()
		}
	}))
	defer srv.Close()
	s, err := NewSpec(profiles.Operation{Name: "get", Request: profiles.Request{Method: "GET", URL: "/items?api_key={{api_key}}"}, Requests: 3}, "api_key")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.jsonl")
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := Run(context.Background(), Options{BaseURL: srv.URL, History: w, Rand: rand.New(rand.NewPCG(1, 2)),
		Vars: map[string]string{"api_key": key}, Redact: func(s string) string { return strings.ReplaceAll(s, key, "REDACTED") }}, []*Spec{s})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "REDACTED") || strings.Contains(string(b), key) || len(ms[0].Errors) == 0 || strings.Contains(ms[0].Errors[0], key) {
		t.Fatalf("errors %q, history:\n%s", ms[0].Errors, b)
	}
}
