package coordinate

import (
	"archive/tar"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serve starts cfg's coordinator on loopback and returns a client of it.
func serve(t *testing.T, cfg Config) (*Server, *Client) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config = s.NewHTTPServer()
	ts.Start()
	t.Cleanup(ts.Close)
	return s, &Client{URL: ts.URL}
}

func TestMeasureRecoversOffset(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
	}{
		{"same clock", 0},
		{"server 50 ms ahead", 50 * time.Millisecond},
		{"server 30 ms behind", -30 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := serve(t, Config{Shards: 1, Now: func() time.Time { return time.Now().Add(tc.offset) }})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			offset, bound, err := c.Measure(ctx, 8)
			if err != nil {
				t.Fatal(err)
			}
			if bound <= 0 || bound > 20*time.Millisecond {
				t.Fatalf("bound %s: want a positive bound of a loopback round trip", bound)
			}
			if d := (offset - tc.offset).Abs(); d > bound {
				t.Fatalf("offset %s, bound %s: off the true %s by %s", offset, bound, tc.offset, d)
			}
			t.Logf("offset %s ± %s (true %s)", offset, bound, tc.offset)
		})
	}
}

func TestMeasureFunctionAndDefaultSamples(t *testing.T) {
	_, c := serve(t, Config{Shards: 1, Now: func() time.Time { return time.Now().Add(50 * time.Millisecond) }})
	offset, bound, err := Measure(context.Background(), c.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := (offset - 50*time.Millisecond).Abs(); d > bound {
		t.Fatalf("offset %s ± %s misses 50ms", offset, bound)
	}
}

func TestConcurrentStartsGetOneTime(t *testing.T) {
	const shards = 16
	delay := 10 * time.Second
	before := time.Now()
	s, c := serve(t, Config{Shards: shards, StartDelay: delay, RunGroup: "g1"})
	ctx := context.Background()
	var wg sync.WaitGroup
	times := make([]time.Time, shards)
	groups := make([]string, shards)
	errs := make([]error, shards)
	for i := range shards {
		wg.Go(func() { times[i], groups[i], errs[i] = c.Start(ctx, i) })
	}
	wg.Wait()
	for i := range shards {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if !times[i].Equal(times[0]) || groups[i] != "g1" {
			t.Fatalf("shard %d got %s %q, shard 0 %s %q", i, times[i], groups[i], times[0], groups[0])
		}
	}
	if times[0].Before(before.Add(delay)) || times[0].After(time.Now().Add(delay)) {
		t.Fatalf("start %s: want now + %s", times[0], delay)
	}
	st := s.Status()
	if len(st.Started) != shards || st.StartAt == nil || !st.StartAt.Equal(times[0]) || st.Done {
		t.Fatalf("status %+v", st)
	}
	// A late shard (a restarted pod) gets the same time.
	late, _, err := c.Start(ctx, 3)
	if err != nil || !late.Equal(times[0]) {
		t.Fatalf("late start %s, %v", late, err)
	}
}

// runFolder writes a small run folder and returns its path.
func runFolder(t *testing.T, shard string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"result.json":    `{"shard":"` + shard + `"}`,
		"history.jsonl":  "{}\n{}\n",
		"nested/a/b.txt": "deep " + shard,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUploadStatusRoundTrip(t *testing.T) {
	results := t.TempDir()
	s, c := serve(t, Config{Shards: 3, ResultsDir: results})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, name := range []string{"0", "1"} {
		if err := c.Upload(ctx, i, runFolder(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Done || len(st.Uploaded) != 2 || st.Shards != 3 {
		t.Fatalf("status after 2 of 3: %+v", st)
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 300*time.Millisecond)
	if _, err := c.Wait(waitCtx, 50*time.Millisecond); err == nil {
		t.Fatal("Wait returned before the last upload")
	}
	waitCancel()
	// A retried shard replaces its earlier upload.
	if err := c.Upload(ctx, 1, runFolder(t, "1-again")); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, 2, runFolder(t, "2")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after every shard uploaded")
	}
	st, err = c.Wait(ctx, 50*time.Millisecond)
	if err != nil || !st.Done || len(st.Uploaded) != 3 {
		t.Fatalf("wait: %+v, %v", st, err)
	}
	for shard, want := range map[string]string{"shard-0": "deep 0", "shard-1": "deep 1-again", "shard-2": "deep 2"} {
		got, err := os.ReadFile(filepath.Join(results, shard, "nested", "a", "b.txt"))
		if err != nil || string(got) != want {
			t.Fatalf("%s: %q, %v; want %q", shard, got, err, want)
		}
		if _, err := os.Stat(filepath.Join(results, shard, "result.json")); err != nil {
			t.Fatal(err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(results, ".shard-*"))
	if len(left) != 0 {
		t.Fatalf("partial uploads left behind: %v", left)
	}
}

func TestWaitNeedsDeadline(t *testing.T) {
	_, c := serve(t, Config{Shards: 1})
	if _, err := c.Wait(context.Background(), time.Millisecond); err == nil {
		t.Fatal("Wait without a deadline: want an error")
	}
}

// tarOf builds a tar stream of the given headers, each with body "x" when
// it is a regular file.
func tarOf(t *testing.T, hs ...*tar.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hs {
		if h.Typeflag == tar.TypeReg {
			h.Size = 1
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			_, _ = tw.Write([]byte("x"))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestBadRequests(t *testing.T) {
	results := t.TempDir()
	_, c := serve(t, Config{Shards: 3, ResultsDir: results, MaxUploadBytes: 16 << 10, MaxFiles: 3})
	_, noResults := serve(t, Config{Shards: 3})
	reg := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644} }
	ok := tarOf(t, reg("result.json"))
	for _, tc := range []struct {
		name, method, url, ctype string
		body                     []byte
		want                     int
	}{
		{"start without shard", "GET", c.URL + "/start", "", nil, 400},
		{"start shard not a number", "GET", c.URL + "/start?shard=x", "", nil, 400},
		{"start shard negative", "GET", c.URL + "/start?shard=-1", "", nil, 400},
		{"start shard past N", "GET", c.URL + "/start?shard=3", "", nil, 400},
		{"start by POST", "POST", c.URL + "/start?shard=0", "", nil, 405},
		{"clock by PUT", "PUT", c.URL + "/clock", "", nil, 405},
		{"unknown path", "GET", c.URL + "/admin", "", nil, 404},
		{"results one file path", "PUT", c.URL + "/results/0/result.json", "application/x-tar", ok, 404},
		{"results shard past N", "PUT", c.URL + "/results/7", "application/x-tar", ok, 400},
		{"results wrong content type", "PUT", c.URL + "/results/0", "application/json", ok, 415},
		{"results not a tar", "PUT", c.URL + "/results/0", "application/x-tar", []byte(strings.Repeat("garbage!", 200)), 400},
		{"results empty tar", "PUT", c.URL + "/results/0", "application/x-tar", tarOf(t), 400},
		{"results path escapes", "PUT", c.URL + "/results/0", "application/x-tar", tarOf(t, reg("../../etc/x")), 400},
		{"results absolute path", "PUT", c.URL + "/results/0", "application/x-tar", tarOf(t, reg("/etc/x")), 400},
		{"results symlink", "PUT", c.URL + "/results/0", "application/x-tar", tarOf(t, &tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}), 400},
		{"results too many files", "PUT", c.URL + "/results/0", "application/x-tar", tarOf(t, reg("a"), reg("b"), reg("c"), reg("d")), 400},
		{"results too large", "PUT", c.URL + "/results/0", "application/x-tar", append(tarOf(t), make([]byte, 32<<10)...), 413},
		{"results with no results folder", "PUT", noResults.URL + "/results/0", "application/x-tar", ok, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, tc.url, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.url, resp.StatusCode, tc.want)
			}
		})
	}
	left, _ := filepath.Glob(filepath.Join(results, "*"))
	hidden, _ := filepath.Glob(filepath.Join(results, ".*"))
	if len(left)+len(hidden) != 0 {
		t.Fatalf("bad uploads left files: %v %v", left, hidden)
	}
	if _, err := os.Stat("/etc/x"); err == nil {
		t.Fatal("an upload escaped to /etc/x")
	}
}

func TestNewServerChecksConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no shards", Config{}},
		{"too many shards", Config{Shards: MaxShards + 1}},
		{"negative delay", Config{Shards: 1, StartDelay: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewServer(tc.cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
