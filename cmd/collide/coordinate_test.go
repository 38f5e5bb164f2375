package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/coordinate"
)

func TestCoordinateBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no shards", []string{"coordinate"}, "-shards must be at least 1"},
		{"negative delay", []string{"coordinate", "-shards", "2", "-start-delay", "-1s"}, "-start-delay must not be negative"},
		{"remote listen", []string{"coordinate", "-shards", "2", "-listen", "0.0.0.0:7070"}, "add -allow-remote"},
		{"bad listen", []string{"coordinate", "-shards", "2", "-listen", "nope"}, "-listen \"nope\""},
		{"argument", []string{"coordinate", "-shards", "2", "extra"}, "takes no argument"},
		{"two modes", []string{"coordinate", "-wait", "http://x", "-join", "http://x"}, "two modes"},
		{"wait not a URL", []string{"coordinate", "-wait", "x:7070"}, "want the coordinator's http:// URL"},
		{"join without run", []string{"coordinate", "-join", "http://127.0.0.1:1", "-shard", "0", "-out", "o"}, "needs the run command"},
		{"join without shard", []string{"coordinate", "-join", "http://127.0.0.1:1", "-out", "o", "--", "run", "counter"}, "-shard must be"},
		{"join without out", []string{"coordinate", "-join", "http://127.0.0.1:1", "-shard", "0", "--", "run", "counter"}, "-out must name"},
		{"join run sets out", []string{"coordinate", "-join", "http://127.0.0.1:1", "-shard", "0", "-out", "o", "--", "run", "counter", "-out=x"}, "leave them out"},
		{"zero timeout", []string{"coordinate", "-wait", "http://x", "-timeout", "0s"}, "-timeout must be positive"},
		{"unknown flag", []string{"coordinate", "-shard-count", "2"}, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), tc.args, &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n") + 1; lines != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("stderr %q: want one line with %q", stderr.String(), tc.want)
			}
		})
	}
}

// freeAddr is a loopback address nothing listens on (right now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestCoordinateServeUploadWait(t *testing.T) {
	addr := freeAddr(t)
	results := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan int, 1)
	var serveOut, serveErr bytes.Buffer
	go func() {
		served <- dispatch(ctx, []string{"coordinate", "-listen", addr, "-shards", "2", "-start-delay", "1s", "-results", results, "-exit-when-done"}, &serveOut, &serveErr)
	}()
	c := &coordinate.Client{URL: "http://" + addr}
	// Wait mode tolerates a coordinator that is not up yet, and ends at its
	// -timeout while shards are missing.
	var out, errOut bytes.Buffer
	if code := dispatch(ctx, []string{"coordinate", "-wait", c.URL, "-timeout", "500ms"}, &out, &errOut); code != 3 {
		t.Fatalf("wait before the uploads: exit %d, want 3; %s", code, errOut.String())
	}
	for shard := range 2 {
		start, _, err := c.Start(ctx, shard)
		if err != nil {
			t.Fatal(err)
		}
		if time.Until(start) > time.Second || time.Until(start) < -5*time.Second {
			t.Fatalf("start %s: want about 1s from the first ask", start)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "result.json"), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.Upload(ctx, shard, dir); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case code := <-served:
		if code != 0 {
			t.Fatalf("serve exit %d: %s", code, serveErr.String())
		}
	case <-ctx.Done():
		t.Fatal("-exit-when-done did not exit after every shard uploaded")
	}
	for _, shard := range []string{"shard-0", "shard-1"} {
		if _, err := os.Stat(filepath.Join(results, shard, "result.json")); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(serveOut.String(), "every shard uploaded") {
		t.Fatalf("serve stdout %q", serveOut.String())
	}
}

func TestCoordinateWaitDone(t *testing.T) {
	addr := freeAddr(t)
	results := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go dispatch(ctx, []string{"coordinate", "-listen", addr, "-shards", "1", "-results", results}, &bytes.Buffer{}, &bytes.Buffer{})
	c := &coordinate.Client{URL: "http://" + addr}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "result.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	for range 50 { // the server may not listen yet
		if err = c.Upload(ctx, 0, dir); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := dispatch(ctx, []string{"coordinate", "-wait", c.URL, "-timeout", "10s"}, &out, &errOut); code != 0 {
		t.Fatalf("wait: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "every shard of 1 uploaded") {
		t.Fatalf("wait stdout %q", out.String())
	}
}

func TestJoinRunArgs(t *testing.T) {
	start := time.Date(2026, 12, 5, 23, 0, 0, 123456789, time.UTC)
	got := joinRunArgs([]string{"run", "/profile/profile.yaml", "-allow-remote"}, 2, 3, start, 50*time.Millisecond, 120*time.Microsecond, "g1", "/work/run")
	want := []string{"run", "/profile/profile.yaml", "-allow-remote",
		"--shard", "2/3", "--start-at", "2026-12-05T23:00:00.123456789Z",
		"--clock-offset", "50ms", "--clock-bound", "120µs", "--run-group", "g1", "--out", "/work/run"}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
