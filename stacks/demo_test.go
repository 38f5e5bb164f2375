package stacks

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/collide-dev/collide/demo"
)

// TestStartDemoProtocols: the demo answers HTTP/1.1 and, to a client with
// prior knowledge, cleartext HTTP/2 (h2c) on its one port.
func TestStartDemoProtocols(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := StartDemo(ctx, demo.Config{Mode: "safe", Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "demo.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	h2 := new(http.Protocols)
	h2.SetUnencryptedHTTP2(true) // prior knowledge only: no fallback to HTTP/1.1
	h1 := new(http.Protocols)
	h1.SetHTTP1(true)
	for _, tc := range []struct {
		protos *http.Protocols
		major  int
	}{{h2, 2}, {h1, 1}} {
		tr := &http.Transport{Protocols: tc.protos}
		c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL()+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("HTTP/%d GET /healthz: %v", tc.major, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.ProtoMajor != tc.major || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz = %s %d %s, want HTTP/%d 200", resp.Proto, resp.StatusCode, body, tc.major)
		}
	}
}
