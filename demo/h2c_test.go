package demo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// h2cClient speaks only HTTP/2 over cleartext with prior knowledge: it
// cannot fall back to HTTP/1.1.
func h2cClient() *http.Client {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: p}}
}

// TestHTTPServerH2C: the server of HTTPServer answers HTTP/1.1 and
// prior-knowledge HTTP/2 on one port; over HTTP/2, concurrent streams share
// one connection, authenticated routes work and burst copies are logged.
func TestHTTPServerH2C(t *testing.T) {
	t.Parallel()
	s, _ := serve(t, backends[0], modeSafe, 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer()
	var conns sync.Map
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Store(c.RemoteAddr().String(), true)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	url := "http://" + ln.Addr().String()

	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	get := func(c *http.Client, path string, header map[string]string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	resp, body := get(h2, "/healthz", nil)
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK || !strings.Contains(body, `"ok":true`) {
		t.Fatalf("h2c GET /healthz = %s %d %s, want HTTP/2.0 200", resp.Proto, resp.StatusCode, body)
	}
	resp, _ = get(testClient, "/healthz", nil)
	if resp.ProtoMajor != 1 || resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP/1.1 GET /healthz = %s %d, want HTTP/1.1 200", resp.Proto, resp.StatusCode)
	}

	// 20 concurrent HTTP/2 requests, marked as burst copies, on one connection.
	before := countConns(&conns)
	const copies = 20
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			resp, err := h2.Get(url + "/healthz")
			if err == nil {
				resp.Body.Close()
			}
			req, _ := http.NewRequest(http.MethodGet, url+"/nope", nil)
			req.Header.Set("x-collide-burst", "0") // lower case on the wire in HTTP/2 anyway
			req.Header.Set("x-collide-op", strconv.Itoa(i))
			if resp, err = h2.Do(req); err != nil {
				t.Errorf("h2c burst copy %d: %v", i, err)
				return
			}
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusNotFound {
				t.Errorf("h2c burst copy %d: %s %d", i, resp.Proto, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := countConns(&conns) - before; n != 0 {
		t.Errorf("%d concurrent h2c requests opened %d more connections, want them multiplexed on the first", 2*copies, n)
	}
	if got := s.Arrivals(); len(got) != copies {
		t.Errorf("%d of %d h2c burst copies logged: %v", len(got), copies, got)
	}
}

func countConns(m *sync.Map) int {
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	return n
}
