package attacks

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Release modes: how the copies of one burst are sent together.
const (
	syncLastByte     = "last-byte"
	syncSinglePacket = "single-packet"
	syncBarrier      = "barrier"
)

// A releaser sends the requests of one burst so that they reach the service
// together, and reads their responses. One releaser serves one operation;
// release may be called from several goroutines at once (bursts overlap
// when the service is slower than the pace).
type releaser interface {
	// warm opens the connections one burst of n requests needs, before the
	// first burst, so that the first burst is as tight as the rest.
	warm(ctx context.Context, n int) error
	// release sends every request in reqs, holding each back until all are
	// ready, then lets them go together. It returns when every response has
	// arrived or failed, with one exchange per request, and the release
	// spread: from the first release write's start to the last one's end.
	release(ctx context.Context, reqs []*outgoing) ([]exchange, time.Duration)
	// close closes the connections it keeps.
	close()
}

// outgoing is one request of a burst, rendered.
type outgoing struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

// request builds the *http.Request of o.
func (o *outgoing) request(ctx context.Context) (*http.Request, error) {
	var body io.Reader // a nil interface when there is no body
	if len(o.body) > 0 {
		body = bytes.NewReader(o.body)
	}
	req, err := http.NewRequestWithContext(ctx, o.method, o.url.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header = o.header
	return req, nil
}

// exchange is what became of one request of a burst.
type exchange struct {
	status int    // 0: no response
	body   []byte // the response body, at most maxBody bytes
	// sent reports whether enough of the request was written for the
	// service to act on it (its final bytes, for the held-back modes).
	sent bool
	err  error
	// released is when the request was let go (its final bytes written):
	// the op's invoke time. Zero if it never was.
	released time.Time
	done     time.Time
}

// maxBody caps how much of a response body is kept (as vegeta's MaxBody).
const maxBody = 64 << 10

// releaseConfig is what every releaser is built from.
type releaseConfig struct {
	base    *url.URL      // the target's base URL
	timeout time.Duration // per request, from its release
	// client sends requests the usual way (barrier mode).
	client *http.Client
	// tls configures TLS to an https target (nil: the system's roots);
	// each mode sets its own ALPN protocols.
	tls *tls.Config
	// keepAlive keeps connections for the next burst; without it every
	// burst opens its own (so a fault's toxicity, drawn per connection,
	// applies per burst copy).
	keepAlive bool
}

// releasers are the release modes by name.
var releasers = map[string]func(releaseConfig) releaser{
	syncLastByte:     newLastByte,
	syncSinglePacket: newSinglePacket,
	syncBarrier:      newBarrier,
}

// lookupSync returns the release mode named name; an unknown name is an
// error listing the known ones.
func lookupSync(name string) (func(releaseConfig) releaser, error) {
	if f, ok := releasers[name]; ok {
		return f, nil
	}
	known := make([]string, 0, len(releasers))
	for n := range releasers {
		known = append(known, n)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("unknown sync %q (known: %s)", name, strings.Join(known, ", "))
}

// resolveSync picks the release mode of a burst: the one asked for, or the
// tightest the target supports — single-packet on HTTP/2, else last-byte.
// note explains a fallback or the choice, for the result.
func resolveSync(ctx context.Context, b *BurstSpec, base *url.URL, tlsConf *tls.Config) (mode, note string, err error) {
	if b.Sync == syncLastByte || b.Sync == syncBarrier {
		return b.Sync, "", nil
	}
	h2, why := speaksH2(ctx, base, tlsConf)
	switch {
	case h2:
		return syncSinglePacket, "", nil
	case b.Sync == "":
		return syncLastByte, "target speaks HTTP/1.1 only (" + why + ")", nil
	case b.Fallback != "":
		return b.Fallback, "single-packet needs HTTP/2, and the target " + why + ": fell back to " + b.Fallback, nil
	}
	return "", "", fmt.Errorf("burst.sync: single-packet needs HTTP/2, and the target %s (set burst.fallback: last-byte to fall back)", why)
}

// speaksH2 asks the target whether it speaks HTTP/2: over TLS by ALPN, in
// clear text by sending the HTTP/2 preface and waiting for the server's
// SETTINGS. why says what was seen when it does not.
func speaksH2(ctx context.Context, base *url.URL, tlsConf *tls.Config) (ok bool, why string) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := dialTarget(ctx, base, tlsConf, []string{"h2", "http/1.1"})
	if err != nil {
		return false, "could not be reached: " + err.Error()
	}
	defer c.Close()
	if tc, isTLS := c.(*tls.Conn); isTLS {
		if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
			return false, fmt.Sprintf("offers %q by ALPN, not h2", p)
		}
		return true, ""
	}
	h, err := newH2Conn(ctx, c)
	if err != nil {
		return false, "answered the HTTP/2 preface with " + err.Error()
	}
	h.close()
	return true, ""
}

// dialTarget opens a connection to base's host: TCP, and TLS (tlsConf, or
// the system's roots when nil) with the given ALPN protocols when base is
// https.
func dialTarget(ctx context.Context, base *url.URL, tlsConf *tls.Config, alpn []string) (net.Conn, error) {
	host := base.Host
	if base.Port() == "" {
		if base.Scheme == "https" {
			host = net.JoinHostPort(base.Hostname(), "443")
		} else {
			host = net.JoinHostPort(base.Hostname(), "80")
		}
	}
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if base.Scheme != "https" {
		return d.DialContext(ctx, "tcp", host)
	}
	conf := &tls.Config{}
	if tlsConf != nil {
		conf = tlsConf.Clone()
	}
	if conf.ServerName == "" {
		conf.ServerName = base.Hostname()
	}
	conf.NextProtos = alpn
	td := &tls.Dialer{NetDialer: d, Config: conf}
	return td.DialContext(ctx, "tcp", host)
}

// spreadOf is the time from the earliest start to the latest end.
func spreadOf(starts, ends []time.Time) time.Duration {
	var first, last time.Time
	for i, t := range starts {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if ends[i].After(last) {
			last = ends[i]
		}
	}
	if first.IsZero() {
		return -1
	}
	return last.Sub(first)
}

// spreads summarises the release or arrival spreads of an operation's
// bursts.
type spreads struct {
	all   []time.Duration // in burst order
	first time.Duration   // the first burst's
}

func (s *spreads) add(burst uint64, d time.Duration) {
	if d < 0 {
		return
	}
	if burst == 0 {
		s.first = d
	}
	s.all = append(s.all, d)
}

// summary returns the median, the 90th percentile and the largest spread.
func (s *spreads) summary() (p50, p90, maxD time.Duration) {
	if len(s.all) == 0 {
		return 0, 0, 0
	}
	xs := slices.Clone(s.all)
	slices.Sort(xs)
	return xs[len(xs)/2], xs[(len(xs)*9)/10], xs[len(xs)-1]
}

// connPool keeps a release mode's idle connections between bursts.
type connPool[C any] struct {
	mu   sync.Mutex
	idle []C
	// usable reports whether an idle connection can still carry a burst of
	// n requests; drop closes one that cannot.
	usable func(c C, n int) bool
	drop   func(c C)
}

// take returns the newest idle connection usable for n requests, closing
// the unusable ones it meets; ok is false when none is left.
func (p *connPool[C]) take(n int) (c C, ok bool) {
	for {
		p.mu.Lock()
		if len(p.idle) == 0 {
			p.mu.Unlock()
			return c, false
		}
		c = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		if p.usable(c, n) {
			return c, true
		}
		p.drop(c)
	}
}

func (p *connPool[C]) put(c C) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// closeAll closes every idle connection.
func (p *connPool[C]) closeAll() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		p.drop(c)
	}
}
