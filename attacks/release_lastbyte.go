package attacks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// lastByte is HTTP/1.1 last-byte synchronization (Turbo Intruder's gate):
// every request of a burst gets its own connection, opened before the burst;
// each request is written but its final bytes — the last byte of the header
// block, and the body after it — so the service has nothing it can act on;
// then the final bytes of every request are written together, by a few
// goroutines in parallel (each write is a syscall of ~5–15 µs on loopback,
// so 30 sequential writes take longer than the windows collide looks for).
// Connections are kept between bursts while the service keeps them open.
type lastByte struct {
	cfg  releaseConfig
	pool connPool[*h1conn]
	// writers is how many goroutines write the tails of n requests (the
	// benchmark compares one, a plain sequential loop).
	writers func(n int) int
}

// releaseWriters is the default: a few goroutines, at least two, at most
// four or one per CPU — enough to halve the time of 30 writes of ~5–15 µs
// each, without taking every CPU from a service on the same machine.
func releaseWriters(n int) int { return min(n, max(2, min(runtime.GOMAXPROCS(0), 4))) }

func newLastByte(cfg releaseConfig) releaser {
	return &lastByte{cfg: cfg, writers: releaseWriters, pool: connPool[*h1conn]{
		usable: func(c *h1conn, _ int) bool { return c.br.Buffered() == 0 && idleAlive(c.Conn) },
		drop:   func(c *h1conn) { c.Close() },
	}}
}

// h1conn is one HTTP/1.1 connection with its read buffer.
type h1conn struct {
	net.Conn
	br *bufio.Reader
}

func (lb *lastByte) dial(ctx context.Context) (*h1conn, error) {
	c, err := dialTarget(ctx, lb.cfg.base, lb.cfg.tls, []string{"http/1.1"})
	if err != nil {
		return nil, err
	}
	return &h1conn{Conn: c, br: bufio.NewReaderSize(c, 4<<10)}, nil
}

func (lb *lastByte) warm(ctx context.Context, n int) error {
	conns := make([]*h1conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			conns[i], errs[i] = lb.dial(ctx)
		})
	}
	wg.Wait()
	for _, c := range conns {
		if c != nil {
			lb.put(c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("open %d connections for a burst: %w", n, err)
	}
	return nil
}

// take returns an idle connection the service has not closed, or a new one.
func (lb *lastByte) take(ctx context.Context) (*h1conn, error) {
	if c, ok := lb.pool.take(1); ok {
		return c, nil
	}
	return lb.dial(ctx)
}

func (lb *lastByte) put(c *h1conn) { lb.pool.put(c) }

func (lb *lastByte) close() { lb.pool.closeAll() }

// h1result is what a copy's reader saw.
type h1result struct {
	status   int
	body     []byte
	err      error
	done     time.Time
	reusable bool
}

func (lb *lastByte) release(ctx context.Context, reqs []*outgoing) ([]exchange, time.Duration) {
	n := len(reqs)
	ex := make([]exchange, n)
	conns := make([]*h1conn, n)
	tails := make([][]byte, n)
	hreqs := make([]*http.Request, n)
	timeout := lb.cfg.timeout

	// 1. A connection per request, and each request written but its tail.
	for i, o := range reqs {
		req, raw, err := o.wire(ctx)
		if err != nil {
			ex[i].err = err
			continue
		}
		hreqs[i] = req
		cut := bytes.Index(raw, []byte("\r\n\r\n"))
		if cut < 0 {
			ex[i].err = errors.New("last-byte: the request has no header end")
			continue
		}
		cut += 3 // hold back the header block's final \n, and the body
		c, err := lb.take(ctx)
		if err == nil {
			c.SetWriteDeadline(time.Now().Add(timeout))
			if _, err = c.Write(raw[:cut]); err != nil {
				// A kept connection the service closed just now: one new try.
				c.Close()
				if c, err = lb.dial(ctx); err == nil {
					c.SetWriteDeadline(time.Now().Add(timeout))
					_, err = c.Write(raw[:cut])
				}
			}
		}
		if err != nil {
			if c != nil {
				c.Close()
			}
			ex[i].err = err
			continue
		}
		conns[i], tails[i] = c, raw[cut:]
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			if c != nil {
				c.SetDeadline(time.Now())
			}
		}
	})
	defer stop()

	// 2. A reader per connection, waiting for its response. Until the
	// release the read deadline is generous; the writers then set it to
	// the release plus the timeout.
	results := make([]h1result, n)
	var readers sync.WaitGroup
	for i, c := range conns {
		if c == nil {
			continue
		}
		c.SetReadDeadline(time.Now().Add(timeout + 5*time.Second))
		readers.Go(func() { readH1(c, hreqs[i], &results[i]) })
	}

	// 3. The release: the tails, written by a few goroutines at once.
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	wrote := make([]int, n)
	werrs := make([]error, n)
	writers := max(lb.writers(n), 1)
	var start atomic.Bool
	var ready, finished sync.WaitGroup
	ready.Add(writers)
	for w := range writers {
		finished.Go(func() {
			ready.Done()
			for !start.Load() {
				runtime.Gosched()
			}
			for i := w; i < n; i += writers {
				if conns[i] == nil {
					continue
				}
				starts[i] = time.Now()
				wrote[i], werrs[i] = conns[i].Write(tails[i])
				ends[i] = time.Now()
			}
		})
	}
	ready.Wait()
	start.Store(true)
	finished.Wait()
	spread := spreadOf(starts, ends)
	for i, c := range conns {
		if c != nil {
			c.SetReadDeadline(starts[i].Add(timeout))
		}
	}
	readers.Wait()

	for i, c := range conns {
		if c == nil {
			continue
		}
		e := &ex[i]
		e.released = starts[i]
		// Nothing of the tail written: the header block never ended, so
		// the service could not act on the request.
		e.sent = wrote[i] > 0
		r := &results[i]
		e.status, e.body, e.done = r.status, r.body, r.done
		switch {
		case werrs[i] != nil && !e.sent:
			e.err = fmt.Errorf("last-byte release: %w", werrs[i])
		case r.err != nil:
			e.err = r.err
		}
		if r.reusable && werrs[i] == nil && ctx.Err() == nil && lb.cfg.keepAlive {
			c.SetDeadline(time.Time{})
			lb.put(c)
		} else {
			c.Close()
		}
	}
	for i := range ex {
		if ex[i].done.IsZero() {
			ex[i].done = time.Now()
		}
	}
	return ex, spread
}

// readH1 reads one response from c.
func readH1(c *h1conn, req *http.Request, r *h1result) {
	defer func() { r.done = time.Now() }()
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		r.err = err
		return
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err != nil {
		r.err = err
		return
	}
	r.reusable = !resp.Close && len(body) <= maxBody
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	r.status, r.body = resp.StatusCode, body
}

// wire renders o as an HTTP/1.1 request: the *http.Request (for reading
// its response) and its bytes.
func (o *outgoing) wire(ctx context.Context) (*http.Request, []byte, error) {
	req, err := o.request(ctx)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	b.Grow(256 + len(o.body))
	if err := req.Write(&b); err != nil {
		return nil, nil, err
	}
	return req, b.Bytes(), nil
}

// rawConn is the connection under TLS, for the liveness check.
func rawConn(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return c
}
