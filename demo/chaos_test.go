package demo

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collide-dev/collide/internal/testpg"
)

// tcpProxy is a minimal stand-in for Toxiproxy between the service and
// PostgreSQL: it can black-hole traffic (freeze) and reset every connection.
type tcpProxy struct {
	ln       net.Listener
	target   string
	frozen   atomic.Bool
	accepted atomic.Int64 // connections accepted: one per connection the service opened

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.reset()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(c, u) })
		p.wg.Go(func() { p.pipe(u, c) })
	}
}

// pipe copies src to dst, dropping the bytes while frozen, and closes both
// when either side ends.
func (p *tcpProxy) pipe(src, dst net.Conn) {
	defer p.forget(src, dst)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) forget(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

// reset closes every proxied connection, like Toxiproxy's reset_peer, and
// returns how many it closed (both ends of a proxied connection count).
func (p *tcpProxy) reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	return n
}

// maxConnsViaProxy is the database pool size of serveViaProxy's service.
const maxConnsViaProxy = 4

// serveViaProxy opens a postgres service whose DSN points at a proxy in
// front of a fresh test database; timeout bounds each request.
// direct is a pool on the database that bypasses the proxy, for checks.
func serveViaProxy(t *testing.T, mode string, timeout time.Duration) (direct *sql.DB, srv *httptest.Server, p *tcpProxy) {
	t.Helper()
	dsn := testpg.New(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p = startProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	s, err := Open(context.Background(), Config{Mode: mode, Driver: driverPostgres, DSN: u.String(), Think: 2 * time.Millisecond, MaxConns: maxConnsViaProxy})
	if err != nil {
		t.Fatal(err)
	}
	s.timeout = timeout // before serving: handlers read it
	srv = httptest.NewServer(s.Handler())
	direct, err = sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		s.Close()
		direct.Close()
	})
	return direct, srv, p
}

// waitHealthy polls an increment until it succeeds again, for up to 10 s.
func waitHealthy(t *testing.T, srv *httptest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := call(http.MethodPost, srv.URL+"/counters/1/increment", nil, "")
		if r.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("service did not recover: last answer %d %v %s", r.status, r.err, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStalledDatabase: while the database link black-holes traffic, every
// request still ends, as a JSON 500 (503 for /healthz), within its time
// bound; once the link heals the service recovers by itself.
func TestStalledDatabase(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	_, srv, p := serveViaProxy(t, modeSafe, timeout)
	waitHealthy(t, srv)

	p.frozen.Store(true)
	began := time.Now()
	rs := burst(12, 12, func(i int) response {
		switch i % 3 {
		case 0:
			return call(http.MethodPost, srv.URL+"/orders", map[string]string{idempotencyHeader: "stalled"}, "")
		case 1:
			return call(http.MethodGet, srv.URL+"/healthz", nil, "")
		default:
			return call(http.MethodPost, srv.URL+"/counters/1/increment", nil, "")
		}
	})
	elapsed := time.Since(began)
	t.Logf("12 requests against a stalled database ended in %v: %v", elapsed.Round(time.Millisecond), statusCounts(rs))
	// Every request ended with the service's own answer (below), not the
	// client's 30s timeout: the service's time bound ended them. How close
	// to the 1s bound is the machine's business, so it is only logged.
	for _, r := range rs {
		if r.status != http.StatusInternalServerError && r.status != http.StatusServiceUnavailable {
			t.Errorf("stalled: status %d, err %v, body %s; want 500 or 503", r.status, r.err, r.body)
		}
		if r.ctype != "application/json" {
			t.Errorf("stalled: content type %q", r.ctype)
		}
	}

	p.frozen.Store(false)
	p.reset() // the frozen connections lost bytes: drop them
	waitHealthy(t, srv)
}

// TestResetDatabase: connections reset under load give 200s and 500s only
// (no hung or dropped HTTP requests), the counter stays within Jepsen's
// bound ok <= value <= ok + unknown, and the service recovers. The resets
// are made from inside the load (every 13th request resets before it is
// sent, while the other workers' requests are in flight), and the test
// proves they happened: they closed live database connections, and the
// service had to open new ones.
func TestResetDatabase(t *testing.T) {
	t.Parallel()
	db, srv, p := serveViaProxy(t, modeSafe, 5*time.Second)

	var resets, closed atomic.Int64
	rs := burst(200, 16, func(i int) response {
		if i%13 == 6 {
			if n := p.reset(); n > 0 {
				resets.Add(1)
				closed.Add(int64(n))
			}
		}
		return call(http.MethodPost, srv.URL+"/counters/1/increment", nil, "")
	})
	if resets.Load() == 0 {
		t.Fatal("no reset found a live database connection to close: the test did not test resets")
	}
	if opened := p.accepted.Load(); opened <= int64(maxConnsViaProxy) {
		t.Fatalf("the service opened %d database connections (pool %d) after %d resets closed %d: want it to reconnect", opened, maxConnsViaProxy, resets.Load(), closed.Load())
	}

	counts := statusCounts(rs)
	t.Logf("200 increments with %d connection resets (%d connection ends closed, %d opened): statuses %v", resets.Load(), closed.Load(), p.accepted.Load(), counts)
	for _, r := range rs {
		if r.err != nil || (r.status != http.StatusOK && r.status != http.StatusInternalServerError) {
			t.Fatalf("status %d, err %v, body %s; want 200 or 500", r.status, r.err, r.body)
		}
	}
	if counts[http.StatusInternalServerError] == 0 {
		t.Fatalf("%d resets closed %d connection ends, yet no request saw one (statuses %v)", resets.Load(), closed.Load(), counts)
	}
	waitHealthy(t, srv) // one more acknowledged increment
	ok, unknown := int64(counts[http.StatusOK]+1), int64(counts[http.StatusInternalServerError])
	var value int64
	if err := db.QueryRow(`SELECT value FROM counters WHERE id = 1`).Scan(&value); err != nil {
		t.Fatal(err)
	}
	if value < ok || value > ok+unknown {
		t.Fatalf("value %d outside [ok, ok+unknown] = [%d, %d]", value, ok, ok+unknown)
	}
}
