package stacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// healthPoll is the pause between two health probes.
const healthPoll = 100 * time.Millisecond

// errExited is returned by waitHealthy when the service stopped first.
var errExited = errors.New("exited before it was healthy")

// waitHealthy polls until the service answers: GET baseURL+health with a
// 2xx status, or, when health is empty, any HTTP answer to GET baseURL/. It
// gives up after timeout, when ctx ends, or when exited is closed (then it
// returns errExited).
func waitHealthy(ctx context.Context, baseURL, health string, timeout time.Duration, exited <-chan struct{}) error {
	target := strings.TrimRight(baseURL, "/") + health
	if health == "" {
		target = strings.TrimRight(baseURL, "/") + "/"
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	defer cl.CloseIdleConnections()
	last := errors.New("no answer yet")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return fmt.Errorf("health URL %s: %w", target, err)
		}
		resp, err := cl.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if health == "" || resp.StatusCode/100 == 2 {
				return nil
			}
			last = fmt.Errorf("GET %s: status %s", target, resp.Status)
		} else if ctx.Err() == nil {
			last = err
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			if parent := context.Cause(ctx); errors.Is(parent, context.Canceled) {
				return parent
			}
			return fmt.Errorf("not healthy after %s: %w", timeout, last)
		case <-time.After(healthPoll):
		}
	}
}
