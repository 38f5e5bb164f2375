package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/report"
)

// TestShardFlagsRefused: bad shard input is one line naming the flag or
// variable, exit 2, before anything runs.
func TestShardFlagsRefused(t *testing.T) {
	soon := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"index past the count", []string{"-shard", "3/2", "-start-at", soon}, nil, "-shard"},
		{"no shards", []string{"-shard", "0/0", "-start-at", soon}, nil, "-shard"},
		{"several shards without a start", []string{"-shard", "0/2"}, nil, "start time"},
		{"start too far ahead", []string{"-shard", "0/2", "-start-at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, nil, "ahead"},
		{"start in the past", []string{"-shard", "0/2", "-start-at", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)}, nil, "passed"},
		{"start that is no time", []string{"-shard", "0/2", "-start-at", "tomorrow"}, nil, "-start-at"},
		{"bound that is no duration", []string{"-shard", "0/2", "-start-at", soon, "-clock-bound", "5"}, nil, "-clock-bound"},
		{"start without a shard", []string{"-start-at", soon}, nil, "-shard"},
		{"env count without index", nil, map[string]string{"COLLIDE_SHARDS": "3"}, "JOB_COMPLETION_INDEX"},
		{"env index past the count", nil, map[string]string{"COLLIDE_SHARDS": "2", "JOB_COMPLETION_INDEX": "2", "COLLIDE_START_AT": soon}, "-shard"},
		{"env offset that is no duration", nil, map[string]string{"COLLIDE_SHARDS": "2", "JOB_COMPLETION_INDEX": "1", "COLLIDE_START_AT": soon, "COLLIDE_CLOCK_OFFSET": "x"}, "COLLIDE_CLOCK_OFFSET"},
		{"a demo target cannot be shared", []string{"-shard", "1/2", "-start-at", soon}, nil, "target.url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"run", "-q", "-out", t.TempDir()}, tc.args...)
			code, _, stderr := collide(t, append(args, "counter")...)
			if code != 2 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q: want exit 2, one line naming %q", code, stderr, tc.want)
			}
		})
	}
}

// TestShardedRunThroughTheCLI: two shards through the real CLI — one from
// flags, one from the Indexed Job's environment — against one demo on
// PostgreSQL, then collide merge: the racy counter fails, with the shards'
// totals summed; a missing shard is incomplete (3), and --partial never
// passes.
func TestShardedRunThroughTheCLI(t *testing.T) {
	dsn := testpg.New(t)
	svc, err := demo.Open(context.Background(), demo.Config{Mode: "racy", Driver: "postgres", DSN: dsn, Think: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer svc.Close()
	defer srv.Close()
	t.Setenv("COLLIDE_MERGE_TEST_DSN", dsn)
	sets := []string{"-set", "target.demo=null", "-set", "target.url=" + srv.URL, "-set", "database.driver=postgres",
		"-set", "database.dsn=${COLLIDE_MERGE_TEST_DSN}", "-set", "chaos=[]", "-set", "operations[0].rate=20/s"}
	start := time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	base := t.TempDir()
	dirs := []string{filepath.Join(base, "s0"), filepath.Join(base, "s1")}
	// Shard 1 takes its index from the environment; the variables are set
	// before both start (t.Setenv is not for concurrent use), and shard 0's
	// -shard flag wins over them.
	t.Setenv("COLLIDE_SHARDS", "2")
	t.Setenv("JOB_COMPLETION_INDEX", "1")
	t.Setenv("COLLIDE_START_AT", start)
	t.Setenv("COLLIDE_RUN_GROUP", "cli-test")
	codes := make([]int, 2)
	stderrs := make([]string, 2)
	var wg sync.WaitGroup
	for i, args := range [][]string{{"-shard", "0/2"}, nil} {
		wg.Go(func() {
			a := append([]string{"run", "-q", "-out", dirs[i]}, args...)
			codes[i], _, stderrs[i] = collide(t, append(append(a, sets...), "counter")...)
		})
	}
	wg.Wait()
	var sum int
	for i, d := range dirs {
		res, err := report.ReadFile(filepath.Join(d, "result.json"))
		if codes[i] != 0 || err != nil {
			t.Fatalf("shard %d: exit %d, %v: %s", i, codes[i], err, stderrs[i])
		}
		if res.Shard == nil || res.Shard.Index != i || res.Shard.Group != "cli-test" || res.Verdict != "partial" {
			t.Fatalf("shard %d: record %+v, verdict %s", i, res.Shard, res.Verdict)
		}
		sum += res.Totals.Total()
	}
	out := filepath.Join(base, "merged")
	code, stdout, stderr := collide(t, "merge", "-q", "-out", out, dirs[0], dirs[1])
	if code != 1 {
		t.Fatalf("merge: exit %d, want 1 (racy counter): %s%s", code, stdout, stderr)
	}
	res, err := report.ReadFile(filepath.Join(out, "result.json"))
	if err != nil || res.Totals.Total() != sum || res.Verdict != report.Fail {
		t.Fatalf("merged: %v, %d ops (shards %d), verdict %s", err, res.Totals.Total(), sum, res.Verdict)
	}
	if code, md, stderr := collide(t, "report", "-format", "markdown", out); code != 0 || !strings.Contains(md, "counter") {
		t.Errorf("report of the merged folder: exit %d, %q %q", code, md, stderr)
	}
	if code, _, stderr := collide(t, "merge", "-q", "-out", filepath.Join(base, "m2"), dirs[1]); code != 3 || !strings.Contains(stderr, "incomplete") {
		t.Errorf("missing shard: exit %d, %q; want 3, incomplete", code, stderr)
	}
	code, _, _ = collide(t, "merge", "-q", "-partial", "-out", filepath.Join(base, "m3"), dirs[0])
	part, err := report.ReadFile(filepath.Join(base, "m3", "result.json"))
	if code == 0 || err != nil || part.Verdict == report.Pass || part.Merge == nil || !part.Merge.Partial {
		t.Errorf("partial merge: exit %d, %v, %+v", code, err, part)
	}
	if code, _, stderr := collide(t, "merge", "-q", "-out", filepath.Join(base, "m4"), dirs[0], dirs[0]); code != 2 || !strings.Contains(stderr, "result.json") {
		t.Errorf("duplicate shard: exit %d, %q; want 2 naming the file", code, stderr)
	}
}
