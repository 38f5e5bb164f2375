package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
		{"no shards", []string{"coordinate"}, "-shards must be 1 … 10000"},
		{"too many shards", []string{"coordinate", "-shards", "10001"}, "-shards must be 1 … 10000"},
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

// TestJoinRunArgs: a shard whose clock is 50 ms behind the coordinator's
// (Measure's offset +50ms) declares -clock-offset -50ms (its clock minus
// the reference) and waits for the start 50 ms earlier on its own clock.
func TestJoinRunArgs(t *testing.T) {
	start := time.Date(2026, 12, 5, 23, 0, 0, 123456789, time.UTC)
	got := joinRunArgs([]string{"run", "/profile/profile.yaml", "-allow-remote"}, 2, 3, start, 50*time.Millisecond, 120*time.Microsecond, "g1", "/work/run")
	want := []string{"run", "/profile/profile.yaml", "-allow-remote",
		"--shard", "2/3", "--start-at", "2026-12-05T23:00:00.073456789Z",
		"--clock-offset", "-50ms", "--clock-bound", "120µs", "--run-group", "g1", "--out", "/work/run"}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// TestCoordinateJoin takes two shards through -join against a real
// coordinator; the run itself is replaced by one that checks its command
// line and writes a run folder.
func TestCoordinateJoin(t *testing.T) {
	addr := freeAddr(t)
	results := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan int, 1)
	go func() {
		served <- dispatch(ctx, []string{"coordinate", "-listen", addr, "-shards", "2", "-start-delay", "2s", "-results", results, "-run-group", "g7", "-exit-when-done"}, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	c := &coordinate.Client{URL: "http://" + addr}
	for range 100 { // until it listens
		if _, err := c.Status(ctx); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var got [][]string
	old := joinDispatch
	t.Cleanup(func() { joinDispatch = old })
	joinDispatch = func(_ context.Context, args []string, _, _ io.Writer) int {
		got = append(got, args)
		out, _ := flagArg(args, "--out")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(filepath.Join(out, "result.json"), []byte(`{"args":"`+strings.Join(args, " ")+`"}`), 0o644); err != nil {
			t.Error(err)
		}
		return 1 // an invariant failed: still a verdict, so the shard exits 0
	}
	for shard := range 2 {
		var out, errOut bytes.Buffer
		code := dispatch(ctx, []string{"coordinate", "-join", c.URL, "-shard", strconv.Itoa(shard), "-out", filepath.Join(t.TempDir(), "run"), "--", "run", "profile.yaml", "-allow-remote"}, &out, &errOut)
		if code != 0 {
			t.Fatalf("join shard %d: exit %d: %s", shard, code, errOut.String())
		}
		if !strings.Contains(out.String(), "uploaded") {
			t.Fatalf("join stdout %q", out.String())
		}
	}
	if len(got) != 2 {
		t.Fatalf("runs %q", got)
	}
	starts := map[string]bool{}
	for i, args := range got {
		if shard, _ := flagArg(args, "--shard"); shard != strconv.Itoa(i)+"/2" {
			t.Fatalf("run %d --shard %q", i, shard)
		}
		if g, _ := flagArg(args, "--run-group"); g != "g7" {
			t.Fatalf("run %d --run-group %q", i, g)
		}
		// Each shard waits on its own clock: its start minus its declared
		// offset (its clock minus the coordinator's) is the one start on
		// the coordinator's clock.
		start, _ := flagArg(args, "--start-at")
		local, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			t.Fatal(err)
		}
		off, _ := flagArg(args, "--clock-offset")
		d, err := time.ParseDuration(off)
		if err != nil {
			t.Fatal(err)
		}
		starts[local.Add(-d).UTC().Format(time.RFC3339Nano)] = true
		for _, f := range []string{"--clock-offset", "--clock-bound"} {
			v, _ := flagArg(args, f)
			if _, err := time.ParseDuration(v); err != nil {
				t.Fatalf("run %d %s %q: %v", i, f, v, err)
			}
		}
		if args[0] != "run" || args[1] != "profile.yaml" || args[2] != "-allow-remote" {
			t.Fatalf("run %d args %q: want the user's run arguments first", i, args)
		}
	}
	if len(starts) != 1 {
		t.Fatalf("start times %v: want one for both shards", starts)
	}
	select {
	case code := <-served:
		if code != 0 {
			t.Fatalf("coordinator exit %d", code)
		}
	case <-ctx.Done():
		t.Fatal("coordinator did not see both uploads")
	}
	for _, shard := range []string{"shard-0", "shard-1"} {
		if _, err := os.Stat(filepath.Join(results, shard, "result.json")); err != nil {
			t.Fatal(err)
		}
	}
}

// flagArg returns the value after name in args.
func flagArg(args []string, name string) (string, bool) {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return args[i+1], true
}

func TestCoordinateJoinFailures(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go dispatch(ctx, []string{"coordinate", "-listen", addr, "-shards", "2", "-results", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	old := joinDispatch
	t.Cleanup(func() { joinDispatch = old })
	joinDispatch = func(context.Context, []string, io.Writer, io.Writer) int { return 3 } // no folder written
	for _, tc := range []struct {
		name string
		url  string
		args []string
		want int
	}{
		{"shard past N", "http://" + addr, []string{"-shard", "2"}, 2},
		{"run left no folder", "http://" + addr, []string{"-shard", "0"}, 3},
		{"coordinator never answers", "http://" + freeAddr(t), []string{"-shard", "0", "-timeout", "1500ms"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"coordinate", "-join", tc.url, "-out", filepath.Join(t.TempDir(), "run")}, tc.args...)
			var out, errOut bytes.Buffer
			if code := dispatch(ctx, append(args, "--", "run", "p.yaml"), &out, &errOut); code != tc.want {
				t.Fatalf("exit %d, want %d: %s", code, tc.want, errOut.String())
			}
		})
	}
}
