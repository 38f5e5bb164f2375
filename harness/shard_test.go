package harness

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

func TestShardShare(t *testing.T) {
	for _, tc := range []struct {
		name         string
		total, count int
		want         []int
	}{
		{"even", 9, 3, []int{3, 3, 3}},
		{"remainder to the lowest", 10, 3, []int{4, 3, 3}},
		{"fewer than shards", 2, 3, []int{1, 1, 0}},
		{"one shard", 7, 1, []int{7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := 0
			for i, w := range tc.want {
				if got := Share(tc.total, i, tc.count); got != w {
					t.Errorf("Share(%d, %d, %d) = %d, want %d", tc.total, i, tc.count, got, w)
				}
				sum += Share(tc.total, i, tc.count)
			}
			if sum != tc.total {
				t.Errorf("shares sum to %d, want %d", sum, tc.total)
			}
		})
	}
}

func TestShardSpecs(t *testing.T) {
	ops := []profiles.Operation{
		{Name: "plain", Rate: profiles.Rate{Freq: 10, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 5, MaxWorkers: 7, Request: profiles.Request{Method: "GET", URL: "/a"}},
		{Name: "burst", Rate: profiles.Rate{Freq: 2, Per: time.Second}, Duration: profiles.Duration(time.Second), Workers: 1, MaxWorkers: 6, Burst: &profiles.Burst{Copies: 16}, Request: profiles.Request{Method: "POST", URL: "/b"}},
		{Name: "counted", Rate: profiles.Rate{Freq: 0}, Requests: 4, Workers: 2, MaxWorkers: 3, Request: profiles.Request{Method: "GET", URL: "/c"}},
	}
	specs, err := attacks.NewSpecs(ops)
	if err != nil {
		t.Fatal(err)
	}
	type share struct {
		rate, workers, maxWorkers, iterations, copies int
	}
	for _, tc := range []struct {
		name  string
		index int
		want  map[string]share
	}{
		{"shard 0 takes the remainders", 0, map[string]share{
			"plain": {4, 2, 3, 0, 0}, "burst": {1, 1, 2, 0, 16}, "counted": {0, 1, 1, 2, 0}}},
		{"shard 1", 1, map[string]share{
			"plain": {3, 2, 2, 0, 0}, "burst": {1, 1, 2, 0, 16}, "counted": {0, 1, 1, 1, 0}}},
		{"shard 2 has no burst left: the burst rate 2/s is whole bursts", 2, map[string]share{
			"plain": {3, 1, 2, 0, 0}, "counted": {0, 1, 1, 1, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]share{}
			for _, s := range ShardSpecs(specs, tc.index, 3) {
				sh := share{s.Rate.Freq, s.Workers, s.MaxWorkers, s.Iterations, 0}
				if s.Burst != nil {
					sh.copies = s.Burst.Copies
				}
				got[s.Name] = sh
			}
			if len(got) != len(tc.want) {
				t.Fatalf("operations %v, want %v", got, tc.want)
			}
			for n, w := range tc.want {
				if got[n] != w {
					t.Errorf("%s: %+v, want %+v", n, got[n], w)
				}
			}
		})
	}
	if specs[0].Rate.Freq != 10 {
		t.Errorf("ShardSpecs changed the spec it was given")
	}
}

func TestShardSeqRanges(t *testing.T) {
	seen := map[uint64]int{}
	for i := range 3 {
		o := attacks.Options{Shard: i, Shards: 3}
		for n := range uint64(5) {
			g := o.Global(n)
			if prev, dup := seen[g]; dup {
				t.Fatalf("seq %d of shard %d also shard %d's", g, i, prev)
			}
			seen[g] = i
		}
	}
	for g := range uint64(15) {
		if _, ok := seen[g]; !ok {
			t.Errorf("seq %d is no shard's: the shards' values must cover 0 … 14", g)
		}
	}
	if got := (&attacks.Options{}).Global(7); got != 7 {
		t.Errorf("unsharded Global(7) = %d", got)
	}
}

func TestParseShardAndCheck(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name, spec string
		startAt    time.Time
		ok         bool
	}{
		{"first of three", "0/3", now.Add(time.Minute), true},
		{"last of three", "2/3", now.Add(time.Minute), true},
		{"index past the count", "3/2", now.Add(time.Minute), false},
		{"no shards", "0/0", now.Add(time.Minute), false},
		{"negative", "-1/2", now.Add(time.Minute), false},
		{"not a pair", "1", now.Add(time.Minute), false},
		{"start too far ahead", "0/2", now.Add(11 * time.Minute), false},
		{"start passed", "0/2", now.Add(-2 * time.Second), false},
		{"several shards need a start", "0/2", time.Time{}, false},
		{"one shard starts at once", "0/1", time.Time{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, n, err := ParseShard(tc.spec)
			if err == nil {
				err = (&Shard{Index: i, Count: n, StartAt: tc.startAt}).Check(now)
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s: err %v, want ok %v", tc.spec, err, tc.ok)
			}
		})
	}
}

func TestMergeWidensByTheClockBound(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var shards []*shardRun
	for i, off := range []time.Duration{0, 50 * time.Millisecond} {
		d := filepath.Join(dir, strconv.Itoa(i))
		os.MkdirAll(d, 0o755)
		w, err := history.Create(filepath.Join(d, HistoryFile))
		if err != nil {
			t.Fatal(err)
		}
		w.Append(&history.Op{ID: 1, Op: "x", Worker: 0, Invoke: t0.Add(off), Complete: t0.Add(off + time.Millisecond), Outcome: history.OK})
		w.Close()
		shards = append(shards, &shardRun{dir: d, info: &report.ShardInfo{Index: i, Count: 2, ClockOffsetNS: int64(off), ClockBoundNS: int64(10 * time.Millisecond)}})
	}
	if _, err := mergeHistories(filepath.Join(dir, "merged.jsonl"), shards); err != nil {
		t.Fatal(err)
	}
	ops, err := history.ReadAll(filepath.Join(dir, "merged.jsonl"))
	if err != nil || len(ops) != 2 {
		t.Fatalf("merged %d ops, err %v", len(ops), err)
	}
	for i, op := range ops {
		if op.ID != uint64(1+i) || op.Worker != i {
			t.Errorf("op %d: id %d worker %d, want %d and %d", i, op.ID, op.Worker, 1+i, i)
		}
		// Both ran at t0 on the reference clock: offset removed, then
		// widened by 10ms on each side.
		if !op.Invoke.Equal(t0.Add(-10*time.Millisecond)) || !op.Complete.Equal(t0.Add(11*time.Millisecond)) {
			t.Errorf("op %d: %s → %s, want t0−10ms → t0+11ms", i, op.Invoke, op.Complete)
		}
	}
}

// shardedDemo is a demo service on its own PostgreSQL database, served over
// HTTP for every shard, and the overrides that point a built-in profile at
// it.
func shardedDemo(t *testing.T, mode string) []string {
	t.Helper()
	dsn := testpg.New(t)
	svc, err := demo.Open(context.Background(), demo.Config{Mode: mode, Driver: "postgres", DSN: dsn, Think: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() { srv.Close(); svc.Close() })
	t.Setenv("COLLIDE_SHARD_TEST_DSN", dsn)
	return []string{"target.demo=null", "target.url=" + srv.URL, "database.driver=postgres", "database.dsn=${COLLIDE_SHARD_TEST_DSN}", "chaos=[]"}
}

// runShards runs count shards of a built-in profile as goroutines from one
// start time, with the given declared clock offsets and bound, and returns
// their run folders and results.
func runShards(t *testing.T, builtin string, sets []string, offsets []time.Duration, bound time.Duration) ([]string, []*report.Result) {
	t.Helper()
	src, err := profiles.Builtin(builtin)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	start := time.Now().Add(1500 * time.Millisecond).Truncate(time.Millisecond)
	dirs := make([]string, len(offsets))
	results := make([]*report.Result, len(offsets))
	errs := make([]error, len(offsets))
	var wg sync.WaitGroup
	for i, off := range offsets {
		p, err := profiles.Load(builtin, sets)
		if err != nil {
			t.Fatal(err)
		}
		dirs[i] = filepath.Join(base, "shard-"+strconv.Itoa(i))
		wg.Go(func() {
			results[i], errs[i] = Run(context.Background(), Options{
				Profile: p, Overrides: sets, OutDir: dirs[i], ProfileSource: src, Seed: int64(i + 1),
				Shard: &Shard{Index: i, Count: len(offsets), StartAt: start, ClockOffset: off, ClockBound: bound},
			})
		})
	}
	wg.Wait()
	for i := range offsets {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		if results[i].Verdict != PartialVerdict || results[i].ExitCode != 0 {
			t.Fatalf("shard %d: verdict %s exit %d, want partial 0", i, results[i].Verdict, results[i].ExitCode)
		}
	}
	return dirs, results
}

func TestShardedCounterMergedAgainstOneDemo(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want report.Verdict
	}{{"racy", report.Fail}, {"safe", report.Pass}} {
		t.Run(tc.mode, func(t *testing.T) {
			sets := append(shardedDemo(t, tc.mode), "operations[0].rate=30/s")
			dirs, shards := runShards(t, "counter", sets, []time.Duration{0, 0, 0}, 0)
			res, err := Merge(context.Background(), MergeOptions{Dirs: dirs, OutDir: filepath.Join(t.TempDir(), "merged")})
			if err != nil {
				t.Fatalf("merge: %v", err)
			}
			if res.Verdict != tc.want {
				t.Fatalf("merged verdict %s (%v), want %s", res.Verdict, res.Invariants, tc.want)
			}
			var sum history.Counts
			for _, s := range shards {
				sum.OK += s.Totals.OK
				sum.Fail += s.Totals.Fail
				sum.Unknown += s.Totals.Unknown
				if s.Totals.Total() == 0 {
					t.Errorf("shard %d sent nothing", s.Shard.Index)
				}
			}
			if res.Totals != sum {
				t.Errorf("merged totals %+v, want the shards' sum %+v", res.Totals, sum)
			}
			if res.Merge == nil || len(res.Merge.Shards) != 3 || res.Merge.Partial {
				t.Errorf("merge record %+v", res.Merge)
			}
		})
	}
}

func TestShardedClockBound(t *testing.T) {
	offsets := []time.Duration{0, 50 * time.Millisecond, -50 * time.Millisecond}
	sets := func(t *testing.T) []string {
		return append(shardedDemo(t, "safe"), "operations[0].rate=30/s", "operations[0].duration=1s")
	}
	t.Run("bound covers the offset error: no false fail", func(t *testing.T) {
		for i := range 5 {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				dirs, _ := runShards(t, "stale-cache", sets(t), offsets, 60*time.Millisecond)
				res, err := Merge(context.Background(), MergeOptions{Dirs: dirs, OutDir: filepath.Join(t.TempDir(), "merged")})
				if err != nil {
					t.Fatal(err)
				}
				if res.Verdict != report.Pass {
					t.Fatalf("verdict %s on the safe demo with the bound declared (a false fail, or undecided): %+v", res.Verdict, res.Invariants)
				}
			})
		}
	})
	t.Run("bound zero: a wrong offset makes a false fail", func(t *testing.T) {
		dirs, _ := runShards(t, "stale-cache", sets(t), offsets, 0)
		res, err := Merge(context.Background(), MergeOptions{Dirs: dirs, OutDir: filepath.Join(t.TempDir(), "merged")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != report.Fail {
			t.Fatalf("verdict %s: the ±50ms offset error with bound 0 should make the safe cache look stale", res.Verdict)
		}
		t.Logf("false fail, as expected without the bound: %s", res.Invariants[0].Actual)
	})
}

func TestMergeRefuses(t *testing.T) {
	sets := append(shardedDemo(t, "safe"), "operations[0].rate=10/s", "operations[0].duration=300ms")
	dirs, _ := runShards(t, "counter", sets, []time.Duration{0, 0}, 0)
	other, _ := runShards(t, "counter", sets, []time.Duration{0, 0}, 0) // another start: another group
	var pe *ProfileError
	var ee *EnvError
	for _, tc := range []struct {
		name    string
		dirs    []string
		partial bool
		check   func(*report.Result, error) bool
	}{
		{"a shard of another run group", []string{dirs[0], other[1]}, false, func(_ *report.Result, err error) bool { return errors.As(err, &pe) }},
		{"a shard given twice", []string{dirs[0], dirs[0]}, false, func(_ *report.Result, err error) bool { return errors.As(err, &pe) }},
		{"a missing shard is incomplete", []string{dirs[0]}, false, func(_ *report.Result, err error) bool {
			return errors.As(err, &ee) && ErrorExitCode(err) == ExitEnv
		}},
		{"partial is never a pass", []string{dirs[0]}, true, func(res *report.Result, err error) bool {
			return err == nil && res.Merge.Partial && res.Verdict != report.Pass && res.ExitCode != ExitPass
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Merge(context.Background(), MergeOptions{Dirs: tc.dirs, Partial: tc.partial, OutDir: filepath.Join(t.TempDir(), "m")})
			if !tc.check(res, err) {
				v := report.Verdict("")
				if res != nil {
					v = res.Verdict
				}
				t.Errorf("verdict %q, err %v", v, err)
			}
		})
	}
}

func TestMergeWithTheShardsSecretOverrides(t *testing.T) {
	sets := shardedDemo(t, "safe")
	dsn := os.Getenv("COLLIDE_SHARD_TEST_DSN")
	sets[3] = "database.dsn=" + dsn // a password in an override: recorded redacted
	sets = append(sets, "operations[0].rate=10/s", "operations[0].duration=300ms")
	dirs, _ := runShards(t, "counter", sets, []time.Duration{0}, 0)
	_, err := Merge(context.Background(), MergeOptions{Dirs: dirs, OutDir: filepath.Join(t.TempDir(), "m")})
	var pe *ProfileError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "-set") {
		t.Fatalf("merge with redacted overrides: %v, want a usage error asking for -set", err)
	}
	res, err := Merge(context.Background(), MergeOptions{Dirs: dirs, Overrides: sets, OutDir: filepath.Join(t.TempDir(), "m")})
	if err != nil || res.Verdict != report.Pass {
		t.Fatalf("merge with the shards' overrides: %v, verdict %v", err, res)
	}
	for _, o := range res.Profile.Overrides {
		if strings.Contains(o, "collide@") && strings.Contains(o, ":collide@") {
			t.Errorf("override written with its password: %s", o)
		}
	}
}

func TestShardZeroLateForItsStartIsAnError(t *testing.T) {
	sets := append(shardedDemo(t, "safe"), "operations[0].rate=10/s", "operations[0].duration=300ms")
	p, err := profiles.Load("counter", sets)
	if err != nil {
		t.Fatal(err)
	}
	// A start that passed while setup ran: every shard but 0 may have
	// attacked before setup reset the counter.
	res, err := Run(context.Background(), Options{Profile: p, Overrides: sets, OutDir: t.TempDir(),
		Shard: &Shard{Index: 0, Count: 2, StartAt: time.Now().Add(-time.Millisecond)}})
	var ee *EnvError
	if !errors.As(err, &ee) || res == nil || res.Verdict != report.Error || !strings.Contains(err.Error(), "start-at") {
		t.Fatalf("err %v, result %+v: want an environment error asking for more time", err, res)
	}
}

func TestPreparedReadsReplayWithTheirTypes(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	rec := &recordingDB{DB: fakeDB{rows: [][]any{{int64(7), "a", []byte("b"), 1.5, true, nil, at}}}}
	ctx := context.Background()
	if _, err := rec.Query(ctx, "SELECT x", int64(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Each(ctx, "SELECT y", func([]any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), PreparedFile)
	if err := writePrepared(path, &prepared{Reads: rec.reads}); err != nil {
		t.Fatal(err)
	}
	pre, err := readPrepared(path)
	if err != nil {
		t.Fatal(err)
	}
	re := &replayDB{reads: pre.Reads}
	for _, tc := range []struct {
		name string
		read func() (*database.Rows, error)
	}{
		{"query", func() (*database.Rows, error) { return re.Query(ctx, "SELECT x", int64(1)) }},
		{"each", func() (*database.Rows, error) {
			out := &database.Rows{}
			_, err := re.Each(ctx, "SELECT y", func(r []any) error { out.Values = append(out.Values, append([]any(nil), r...)); return nil })
			return out, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := tc.read()
			if err != nil || len(rows.Values) != 1 {
				t.Fatalf("%v, %v", rows, err)
			}
			got := rows.Values[0]
			if got[0] != int64(7) || got[1] != "a" || string(got[2].([]byte)) != "b" || got[3] != 1.5 || got[4] != true || got[5] != nil || !got[6].(time.Time).Equal(at) {
				t.Errorf("replayed %#v", got)
			}
		})
	}
	if _, err := re.Query(ctx, "SELECT x", int64(2)); err == nil {
		t.Error("a read shard 0 never made was answered")
	}
}

type fakeDB struct {
	database.DB
	rows [][]any
}

func (f fakeDB) Query(context.Context, string, ...any) (*database.Rows, error) {
	return &database.Rows{Columns: []string{"a"}, Values: f.rows}, nil
}

func (f fakeDB) Each(_ context.Context, _ string, fn func([]any) error, _ ...any) ([]string, error) {
	for _, r := range f.rows {
		if err := fn(r); err != nil {
			return nil, err
		}
	}
	return []string{"a"}, nil
}
