package discover_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
)

// serveDemo serves a fresh demo service in mode on its own SQLite file.
func serveDemo(t *testing.T, mode string) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := demo.Open(ctx, demo.Config{Mode: mode, Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "demo.db"), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// send sends r (rendered with vars) to base and returns the status and
// body.
func send(t *testing.T, base string, r discover.Request, vars map[string]string) (int, []byte) {
	t.Helper()
	r, err := r.Render(vars)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("%s: %v", r.ID, err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", r.ID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: read the response: %v", r.ID, err)
	}
	return resp.StatusCode, body
}

// TestOpenAPIExamplesWork proves the demo's document: every request
// FromOpenAPI makes of it gets a 2xx — except GET /reports/{id}, 404 until
// a job of the report ran, as its description says — both sent in order
// on one fresh demo and sent alone on its own fresh demo, after the setup
// requests (their captures rendered into the later ones).
func TestOpenAPIExamplesWork(t *testing.T) {
	expect := map[string]int{"openapi:GET /reports/{id}": http.StatusNotFound}
	rs, err := discover.FromOpenAPI("openapi.json", demo.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var setup, others []discover.Request
	for _, r := range rs {
		if r.Setup {
			setup = append(setup, r)
		} else {
			others = append(others, r)
		}
	}
	// replay sends rs in order to base, capturing as it goes.
	replay := func(t *testing.T, base string, rs []discover.Request) {
		t.Helper()
		vars := map[string]string{}
		for _, r := range rs {
			status, body := send(t, base, r, vars)
			if want, ok := expect[r.ID]; ok {
				if status != want {
					t.Errorf("%s %s: %d %s, want %d", r.ID, r.URL, status, body, want)
				}
			} else if status < 200 || status > 299 {
				t.Errorf("%s %s: %d %s, want 2xx", r.ID, r.URL, status, body)
			}
			got, err := r.Captured(body)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(vars, got)
		}
	}
	for _, mode := range []string{"racy", "safe"} {
		t.Run(mode+"/in order", func(t *testing.T) {
			replay(t, serveDemo(t, mode).URL, rs)
		})
		t.Run(mode+"/alone", func(t *testing.T) {
			for _, r := range others {
				replay(t, serveDemo(t, mode).URL, append(slices.Clip(setup), r))
			}
		})
	}
}
