package coordinate

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultSamples is how many clock exchanges Measure makes when asked for
// fewer than one.
const DefaultSamples = 8

// maxReplyBytes bounds every JSON reply the client reads.
const maxReplyBytes = 1 << 20

// Client talks to a coordinator. The zero value is not usable: set URL.
type Client struct {
	// URL is the coordinator's base URL, e.g. http://collide-coordinator:7070.
	URL string
	// HTTP sends the requests; nil: a client with a 30 s timeout for
	// replies and none for uploads (their context bounds them).
	HTTP *http.Client
	// Now is the local clock; nil: time.Now.
	Now func() time.Time
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// get sends GET path and decodes a 200 reply into v.
func (c *Client) get(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.URL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	defer resp.Body.Close()
	return decode(resp, http.StatusOK, v)
}

// decode reads a reply of status want into v (nil: discard), or turns any
// other status into an error carrying the server's message.
func decode(resp *http.Response, want int, v any) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return fmt.Errorf("coordinator %s: reading reply: %w", resp.Request.URL.Path, err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("coordinator %s: %s: %s", resp.Request.URL.Path, resp.Status, e.Error)
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("coordinator %s: decoding reply: %w", resp.Request.URL.Path, err)
	}
	return nil
}

// Start asks for the run's start time (the coordinator's clock) and run
// group as shard. Every shard gets the same answer.
func (c *Client) Start(ctx context.Context, shard int) (time.Time, string, error) {
	var r StartReply
	if err := c.get(ctx, "/start?shard="+strconv.Itoa(shard), &r); err != nil {
		return time.Time{}, "", err
	}
	return r.StartAt, r.RunGroup, nil
}

// Status returns which shards started and uploaded.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.get(ctx, "/status", &st)
	return st, err
}

// Wait polls Status every poll until every shard has uploaded or ctx ends;
// ctx must carry a deadline, which bounds the loop. A failed poll is
// retried (the coordinator may not be up yet) and the last error is
// returned with ctx's.
func (c *Client) Wait(ctx context.Context, poll time.Duration) (Status, error) {
	if _, ok := ctx.Deadline(); !ok {
		return Status{}, errors.New("coordinator: Wait needs a context with a deadline")
	}
	if poll <= 0 {
		poll = 2 * time.Second
	}
	var last error
	for {
		st, err := c.Status(ctx)
		if err == nil && st.Done {
			return st, nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return st, fmt.Errorf("waiting for the shards: %w (last: %w)", ctx.Err(), last)
			}
			return st, fmt.Errorf("waiting for the shards (uploaded %v of %d): %w", st.Uploaded, st.Shards, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// Measure is (&Client{URL: url}).Measure(ctx, samples).
func Measure(ctx context.Context, url string, samples int) (offset, bound time.Duration, err error) {
	return (&Client{URL: url}).Measure(ctx, samples)
}

// Measure estimates the offset of the coordinator's clock from the local
// one, NTP-style, from samples exchanges (DefaultSamples when < 1). One
// exchange: the client reads t0, the server stamps receipt t1 and reply t2,
// the client reads t3. Its round trip is rtt = (t3 − t0) − (t2 − t1) and
// its offset ((t1 − t0) + (t2 − t3)) / 2. Measure keeps the exchange with
// the smallest round trip: whatever the split of that round trip between
// the two directions, the true offset lies within offset ± rtt/2, and each
// server timestamp may be off by the server's clock resolution, so
// bound = rtt/2 + resolution. A local time t corresponds to the
// coordinator's t + offset; the coordinator's T to local T − offset.
func (c *Client) Measure(ctx context.Context, samples int) (offset, bound time.Duration, err error) {
	if samples < 1 {
		samples = DefaultSamples
	}
	best := time.Duration(-1)
	for i := range samples {
		t0 := c.now()
		var r ClockReply
		if err := c.get(ctx, "/clock", &r); err != nil {
			return 0, 0, fmt.Errorf("clock sample %d: %w", i+1, err)
		}
		t3 := c.now()
		rtt := t3.Sub(t0) - r.SentAt.Sub(r.ReceivedAt)
		if rtt < 0 {
			rtt = 0
		}
		if best >= 0 && rtt >= best {
			continue
		}
		best = rtt
		// Wall clocks: t0 and t3 lose their monotonic reading so that
		// they compare with the server's timestamps.
		t0w, t3w := t0.Round(0), t3.Round(0)
		offset = (r.ReceivedAt.Sub(t0w) + r.SentAt.Sub(t3w)) / 2
		bound = rtt/2 + time.Duration(r.ResolutionNanos)
	}
	return offset, bound, nil
}

// Upload sends the files below dir (regular files only, folders implied by
// their paths) to the coordinator as shard's results, as one tar stream.
func (c *Client) Upload(ctx context.Context, shard int, dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("upload: %s is not a folder", dir)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, dir)) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimSuffix(c.URL, "/")+"/results/"+url.PathEscape(strconv.Itoa(shard)), pr)
	if err != nil {
		_ = pr.CloseWithError(err)
		return fmt.Errorf("upload: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-tar")
	resp, err := c.http().Do(req)
	if err != nil {
		_ = pr.CloseWithError(err)
		return fmt.Errorf("upload of shard %d: %w", shard, err)
	}
	defer resp.Body.Close()
	if err := decode(resp, http.StatusCreated, nil); err != nil {
		return fmt.Errorf("upload of shard %d: %w", shard, err)
	}
	return nil
}

// writeTar writes dir's regular files to w as a tar stream of relative
// slash paths.
func writeTar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil // folders are implied; links and devices are not sent
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, info.Size()); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tar of %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar of %s: %w", dir, err)
	}
	return nil
}
