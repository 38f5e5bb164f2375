package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

// quietGlobalLog silences zerolog's global logger, which some Toxiproxy
// toxics (bandwidth) log to directly, at trace level, on stderr. It runs
// before the first embedded server exists, so no toxic reads the logger
// while it is replaced.
var quietGlobalLog sync.Once

// Embedded is Toxiproxy's own API server running inside this process, on a
// free loopback port. It is the default: no toxiproxy-server binary needed.
// Talk to it through New(e.URL(), runID) like to any other Toxiproxy.
type Embedded struct {
	api    *toxiproxy.ApiServer
	srv    *http.Server
	url    string
	served chan struct{}

	once sync.Once
	err  error
}

// StartEmbedded starts Toxiproxy's API server on 127.0.0.1 at a free port.
// ctx bounds the start only; the server runs until Close. Its logs are
// discarded (the first call also silences zerolog's global logger, which
// Toxiproxy's bandwidth toxic writes to).
func StartEmbedded(ctx context.Context) (*Embedded, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("chaos: start embedded toxiproxy: %w", err)
	}
	quietGlobalLog.Do(func() { zlog.Logger = zerolog.Nop() })
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chaos: start embedded toxiproxy: %w", err)
	}
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	e := &Embedded{
		api: api,
		srv: &http.Server{
			Handler:           api.Routes(),
			ReadHeaderTimeout: 15 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		url:    "http://" + ln.Addr().String(),
		served: make(chan struct{}),
	}
	go func() {
		defer close(e.served)
		_ = e.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return e, nil
}

// URL is the API's base URL, e.g. http://127.0.0.1:41235.
func (e *Embedded) URL() string { return e.url }

// Close removes every proxy on this server (closing their listeners and
// connections) and stops the API. It is safe to call more than once. It
// gives up after 5s on proxies that will not stop: a proxy wedged by the
// Toxiproxy deadlock described at Remove never finishes stopping; its
// goroutines stay behind, its listener is closed.
func (e *Embedded) Close() error {
	e.once.Do(func() {
		var errs []error
		cleared := make(chan error, 1)
		go func() { cleared <- e.api.Collection.Clear() }()
		select {
		case err := <-cleared:
			errs = append(errs, err)
		case <-time.After(5 * time.Second):
			errs = append(errs, errors.New("proxies did not stop within 5s (wedged by a Toxiproxy deadlock?)"))
		}
		// A short grace for API requests in flight, then close the rest:
		// connections a client dialled but never used would otherwise hold
		// Shutdown for 5s.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if e.srv.Shutdown(ctx) != nil {
			errs = append(errs, e.srv.Close())
		}
		<-e.served
		if err := errors.Join(errs...); err != nil {
			e.err = fmt.Errorf("chaos: close embedded toxiproxy: %w", err)
		}
	})
	return e.err
}
