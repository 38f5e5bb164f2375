package stacks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/collide-dev/collide/demo"
)

// Demo is the built-in demo service serving on a loopback port.
type Demo struct {
	svc *demo.Service
	srv *http.Server
	ln  net.Listener
	err chan error
}

// StartDemo opens the demo service on cfg's database and serves it on
// 127.0.0.1 at a free port, in HTTP/1.1 and cleartext HTTP/2 with prior
// knowledge (h2c).
func StartDemo(ctx context.Context, cfg demo.Config) (*Demo, error) {
	svc, err := demo.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("demo service: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.Close()
		return nil, fmt.Errorf("demo service: listen: %w", err)
	}
	d := &Demo{
		svc: svc,
		ln:  ln,
		srv: svc.HTTPServer(),
		err: make(chan error, 1),
	}
	go func() { d.err <- d.srv.Serve(ln) }()
	return d, nil
}

// URL is the demo's base URL, e.g. http://127.0.0.1:39211.
func (d *Demo) URL() string { return "http://" + d.ln.Addr().String() }

// Arrivals reports when each request of a burst reached the demo's
// handlers, by op id (see demo.Service.Arrivals).
func (d *Demo) Arrivals() map[uint64]time.Time { return d.svc.Arrivals() }

// Addr is the demo's host:port.
func (d *Demo) Addr() string { return d.ln.Addr().String() }

// Close stops serving (waiting up to 5s for requests in flight) and closes
// the database.
func (d *Demo) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = d.srv.Close()
	}
	if serr := <-d.err; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cerr := d.svc.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
