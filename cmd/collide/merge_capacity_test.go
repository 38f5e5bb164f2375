package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/report"
)

// mergeOps, when set, makes TestMergeCapacity time collide merge over
// generated three-shard histories of these total op counts (make
// bench-shard: -merge-ops 1000000,3000000).
var mergeOps = flag.String("merge-ops", "", "comma-separated total op counts for TestMergeCapacity (empty: skip)")

// TestMergeCapacity (make bench-shard) measures collide merge + the counter
// check over generated histories: three real shards of the counter profile
// against the safe demo on PostgreSQL give the folders (result, profile,
// prepared state), their history.jsonl files are replaced by ops/3 ok
// increments each (invoke 300 µs apart per shard, 2 ms latency, 64
// workers), the counter row is set to the total so that the check passes,
// and a built collide binary merges them as a child process: wall time,
// ops/s and the child's peak RSS are logged.
func TestMergeCapacity(t *testing.T) {
	if *mergeOps == "" {
		t.Skip("skipping: a measurement; run with -merge-ops 1000000,3000000 (make bench-shard)")
	}
	bin := filepath.Join(t.TempDir(), "collide")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, f := range strings.Split(*mergeOps, ",") {
		total, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || total < 3 {
			t.Fatalf("-merge-ops %q: want counts ≥ 3", f)
		}
		t.Run(strconv.Itoa(total), func(t *testing.T) { mergeCapacity(t, bin, total) })
	}
}

func mergeCapacity(t *testing.T, bin string, total int) {
	dsn := testpg.New(t)
	svc, err := demo.Open(context.Background(), demo.Config{Mode: "safe", Driver: "postgres", DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer svc.Close()
	defer srv.Close()
	t.Setenv("COLLIDE_CAPACITY_DSN", dsn)
	sets := []string{"-set", "target.demo=null", "-set", "target.url=" + srv.URL, "-set", "database.driver=postgres",
		"-set", "database.dsn=${COLLIDE_CAPACITY_DSN}", "-set", "chaos=[]", "-set", "operations[0].rate=6/s", "-set", "operations[0].duration=300ms"}
	start := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	base := t.TempDir()
	dirs := make([]string, 3)
	codes := make([]int, 3)
	stderrs := make([]string, 3)
	var wg sync.WaitGroup
	for i := range dirs {
		dirs[i] = filepath.Join(base, "shard-"+strconv.Itoa(i))
		wg.Go(func() {
			args := []string{"run", "-q", "-out", dirs[i], "-shard", fmt.Sprintf("%d/3", i), "-start-at", start, "-run-group", "capacity"}
			codes[i], _, stderrs[i] = collide(t, append(append(args, sets...), "counter")...)
		})
	}
	wg.Wait()
	for i := range dirs {
		if codes[i] != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, codes[i], stderrs[i])
		}
	}
	genStart := time.Now()
	t0 := time.Now().UTC()
	var size int64
	for i, d := range dirs {
		n := total / 3
		if i < total%3 {
			n++
		}
		path := filepath.Join(d, "history.jsonl")
		w, err := history.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		for k := range n {
			inv := t0.Add(time.Duration(k) * 300 * time.Microsecond)
			op := &history.Op{ID: uint64(k + 1), Op: "incr", Worker: k % 64, Invoke: inv, Complete: inv.Add(2 * time.Millisecond),
				Outcome: history.OK, Status: 200, Sent: true}
			if err := w.Append(op); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		size += st.Size()
	}
	t.Logf("generated %d ops (%.0f MB of history.jsonl) in %s", total, float64(size)/1e6, time.Since(genStart).Round(time.Millisecond))
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE counters SET value = $1 WHERE id = 1", total); err != nil {
		t.Fatalf("set the counter: %v", err)
	}
	out := filepath.Join(base, "merged")
	cmd := exec.Command(bin, append([]string{"merge", "-q", "-format", "none", "-out", out}, dirs...)...)
	began := time.Now()
	b, err := cmd.CombinedOutput()
	took := time.Since(began)
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, b)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res, err := report.ReadFile(filepath.Join(out, "result.json"))
	if err != nil || res.Totals.Total() != total || res.Verdict != report.Pass {
		t.Fatalf("merged: %v, %d ops, verdict %s: %s", err, res.Totals.Total(), res.Verdict, b)
	}
	var rss int64
	if ru != nil {
		rss = ru.Maxrss // KiB on Linux
	}
	t.Logf("merge+check of %d ops in 3 shards: %s wall, %.0f ops/s, user+sys CPU %s, peak RSS %d MiB, verdict %s",
		total, took.Round(10*time.Millisecond), float64(total)/took.Seconds(),
		(cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Round(10*time.Millisecond), rss/1024, res.Verdict)
}
