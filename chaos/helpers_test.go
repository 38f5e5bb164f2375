package chaos_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
)

// bigBody is the size of /big responses, for bandwidth tests.
const bigBody = 50_000

// upstream starts a tiny loopback HTTP server: "/" answers "ok", "/big"
// answers bigBody bytes. It returns its host:port.
func upstream(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", bigBody)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// embedded starts an in-process Toxiproxy, closed when the test ends.
func embedded(t *testing.T) *chaos.Embedded {
	t.Helper()
	e, err := chaos.StartEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("embedded close: %v", err)
		}
	})
	return e
}

// newChaos returns a Chaos closed (and checked) when the test ends.
func newChaos(t *testing.T, apiURL, runID string) *chaos.Chaos {
	t.Helper()
	c := chaos.New(apiURL, runID)
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("chaos close: %v", err)
		}
	})
	return c
}

func addLink(t *testing.T, c *chaos.Chaos, name, up string) *chaos.Link {
	t.Helper()
	l, err := c.AddLink(context.Background(), name, up)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// get fetches http://addr+path on a fresh (keep-alive) connection and
// returns how long it took.
func get(addr, path string, timeout time.Duration) (time.Duration, error) {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Timeout: timeout, Transport: tr}
	start := time.Now()
	resp, err := hc.Get("http://" + addr + path)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
	}
	return time.Since(start), err
}

// mustGet is get that fails the test on error.
func mustGet(t *testing.T, addr, path string) time.Duration {
	t.Helper()
	d, err := get(addr, path, 5*time.Second)
	if err != nil {
		t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	return d
}

// rawExchange sends a Connection: close HTTP request over plain TCP and reads
// until the server closes, returning the bytes and the time to EOF.
func rawExchange(t *testing.T, addr string) ([]byte, time.Duration) {
	t.Helper()
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b, time.Since(start)
}

// serverProxies lists the proxies on the server through a separate client.
func serverProxies(t *testing.T, apiURL string) map[string]*client.Proxy {
	t.Helper()
	ps, err := client.NewClient(apiURL).Proxies()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func f64(v float64) *float64 { return &v }

// noToxicOn fails unless the toxiproxy server at apiURL holds no toxic on
// proxy but the traffic counters.
func noToxicOn(t *testing.T, apiURL, proxy string) {
	t.Helper()
	p := serverProxies(t, apiURL)[proxy]
	if p == nil {
		t.Fatalf("proxy %s is gone from the server", proxy)
	}
	if fs := faults(p); len(fs) != 0 {
		t.Fatalf("proxy %s still holds toxics %+v", proxy, fs)
	}
}

// faults lists p's toxics but the traffic counters (chaos.CountToxic).
func faults(p *client.Proxy) []client.Toxic {
	var out []client.Toxic
	for _, tx := range p.ActiveToxics {
		if tx.Type != chaos.CountToxic {
			out = append(out, tx)
		}
	}
	return out
}
