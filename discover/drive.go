package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/stacks"
)

// Defaults and bounds of Drive.
const (
	// DefaultQuiet is the gap before and after each request: nothing is
	// sent during it, so statements the service runs late (after its
	// response) are not taken for the next request's.
	DefaultQuiet = 50 * time.Millisecond
	// DefaultRequestTimeout bounds each request, response body included.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultDriveTimeout bounds the whole drive.
	DefaultDriveTimeout = 5 * time.Minute
	// MaxRequests is the most requests one drive sends.
	MaxRequests = 1000
	// maxResponseBytes is how much of a response body is read (the rest
	// is discarded with the connection).
	maxResponseBytes = 1 << 20
)

// DriveConfig says what Drive sends, where, and how it is bounded.
type DriveConfig struct {
	// BaseURL is the base URL of the running service, e.g.
	// http://127.0.0.1:8080. A request's relative URL is resolved against
	// it; an absolute one (a HAR entry) keeps its path and query but is
	// sent to BaseURL's scheme and host.
	BaseURL string
	// Recorder is the recorder of a tap already on the service's database
	// link: each trace's statements are those it recorded in the request's
	// time window.
	Recorder *tap.Recorder
	// Requests are sent one at a time: those with Setup first, in order,
	// then the others, in order. At most MaxRequests.
	Requests []Request
	// Quiet is the gap before and after each request, during which nothing
	// is sent (0: DefaultQuiet). A statement the service starts later than
	// Quiet after its response is lost to its trace (and, starting before
	// the next request, to the next one's too).
	Quiet time.Duration
	// RequestTimeout bounds each request (0: DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Timeout bounds the whole drive (0: DefaultDriveTimeout).
	Timeout time.Duration
	// AllowRemote permits a BaseURL outside loopback.
	AllowRemote bool
	// Each, when not nil, is called after every request with its trace.
	Each func(Trace)
	// Captures, when not nil, names the variables to take from a
	// request's JSON response (name → dotted path, as a profile's
	// capture; Request.Capture): a login's token, a created id.
	Captures func(Request) map[string]string
	// Render, when not nil, prepares each request before it is sent with
	// the variables captured so far ({{token}} → its value;
	// Request.Render). The trace keeps the request as given.
	Render func(r Request, vars map[string]string) (Request, error)
}

// Drive sends each request alone through the service at cfg.BaseURL and
// returns one Trace per request, in the order sent (setup requests first,
// marked by Request.Setup): its status and the statements the tap recorded
// between the moment it was sent and a quiet gap after its response.
// Cookies set by any response (a login) are sent with the later requests.
// A request that gets no response has Status 0 and Err set; the drive goes
// on. It stops with an error when ctx is done or cfg.Timeout passes.
func Drive(ctx context.Context, cfg DriveConfig) ([]Trace, error) {
	base, err := cfg.check(ctx)
	if err != nil {
		return nil, err
	}
	quiet := orDefault(cfg.Quiet, DefaultQuiet)
	ctx, cancel := context.WithTimeout(ctx, orDefault(cfg.Timeout, DefaultDriveTimeout))
	defer cancel()
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("drive: cookie jar: %w", err)
	}
	client := &http.Client{
		Jar:       jar,
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1},
		// One request is one request: a redirect is recorded, not followed
		// (it could leave loopback).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()
	ordered := make([]Request, 0, len(cfg.Requests))
	for _, setup := range []bool{true, false} {
		for _, r := range cfg.Requests {
			if r.Setup == setup {
				ordered = append(ordered, r)
			}
		}
	}
	if err := sleep(ctx, quiet); err != nil { // statements of what came before settle
		return nil, fmt.Errorf("drive: %w", err)
	}
	traces := make([]Trace, 0, len(ordered))
	vars := map[string]string{}
	for _, r := range ordered {
		tr := Trace{Request: r}
		sent := r
		if cfg.Render != nil {
			if sent, err = cfg.Render(r, vars); err != nil {
				return traces, fmt.Errorf("drive: %s (%s): %w", r.ID, r.Source, err)
			}
		}
		var paths map[string]string
		if cfg.Captures != nil {
			paths = cfg.Captures(r)
		}
		var got map[string]string
		tr.Start = time.Now()
		tr.Status, got, err = send(ctx, client, base, sent, paths, orDefault(cfg.RequestTimeout, DefaultRequestTimeout))
		for k, v := range got {
			vars[k] = v
		}
		if err != nil {
			if ctx.Err() != nil {
				return traces, fmt.Errorf("drive: %s (%s): %w", r.ID, r.Source, context.Cause(ctx))
			}
			tr.Err = err.Error()
		}
		if err := sleep(ctx, quiet); err != nil {
			return traces, fmt.Errorf("drive: after %s: %w", r.ID, err)
		}
		tr.End = time.Now()
		tr.Statements = cfg.Recorder.Window(tr.Start, tr.End)
		traces = append(traces, tr)
		if cfg.Each != nil {
			cfg.Each(tr)
		}
	}
	return traces, nil
}

// check validates cfg and returns the parsed base URL.
func (cfg DriveConfig) check(ctx context.Context) (*url.URL, error) {
	if cfg.Recorder == nil {
		return nil, errors.New("drive: no recorder: put a tap with a Recorder on the service's database link")
	}
	if len(cfg.Requests) > MaxRequests {
		return nil, fmt.Errorf("drive: %d requests: at most %d", len(cfg.Requests), MaxRequests)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("drive: base URL %q: want an absolute http:// or https:// URL", cfg.BaseURL)
	}
	if !cfg.AllowRemote {
		if err := stacks.CheckLoopback(ctx, "target", base.Hostname()); err != nil {
			return nil, fmt.Errorf("drive: %w", err)
		}
	}
	for i, r := range cfg.Requests {
		if _, err := resolve(base, r.URL); err != nil {
			return nil, fmt.Errorf("drive: request %d (%s): %w", i, r.Source, err)
		}
	}
	return base, nil
}

// resolve is the URL a request is sent to: a relative one resolved against
// base, an absolute one moved onto base's scheme and host.
func resolve(base *url.URL, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", raw, err)
	}
	if u.IsAbs() {
		u.Scheme, u.Host, u.User = base.Scheme, base.Host, nil
		return u, nil
	}
	return base.ResolveReference(u), nil
}

// send sends one request and reads its response; it returns the status
// and the values at paths in its JSON body (a path missing, or a body that
// is not JSON, is an error).
func send(ctx context.Context, client *http.Client, base *url.URL, r Request, paths map[string]string, timeout time.Duration) (int, map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, _ := resolve(base, r.URL) // checked by DriveConfig.check
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	for k, vs := range r.Header {
		if http.CanonicalHeaderKey(k) == "Host" {
			continue // the target's own
		}
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: reading the response: %w", method, u.Redacted(), err)
	}
	if len(paths) == 0 {
		return resp.StatusCode, nil, nil
	}
	vals, missing, err := attacks.CaptureText(data, paths)
	switch {
	case err != nil:
		return resp.StatusCode, vals, fmt.Errorf("%s %s: capture: %w", method, u.Redacted(), err)
	case len(missing) > 0:
		return resp.StatusCode, vals, fmt.Errorf("%s %s: capture: no %s in the response (status %d)", method, u.Redacted(), strings.Join(missing, ", "), resp.StatusCode)
	}
	return resp.StatusCode, vals, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
