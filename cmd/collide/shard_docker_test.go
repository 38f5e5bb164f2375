package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/internal/testdocker"
	"github.com/collide-dev/collide/report"
	"github.com/collide-dev/collide/stacks"
)

// shardPairs, when > 0, makes TestShardContainersPairs run that many paired
// runs per mode (make bench-shard: -shard-pairs 20).
var shardPairs = flag.Int("shard-pairs", 0, "paired sharded/unsharded runs per mode in TestShardContainersPairs (0: skip)")

// shardImage is the collide image the shard containers run. With
// COLLIDE_IMAGE set, that image as it is; else collide:shard-e2e (its own
// tag, so that another checkout's collide:local is left alone), brought up
// to date with this tree by deploy/image.sh (10–25 s: it builds the binary
// and rebuilds the image only when the binary changed), so that the
// containers never run a stale collide.
func shardImage(t *testing.T) string {
	t.Helper()
	testdocker.Require(t)
	if img := os.Getenv("COLLIDE_IMAGE"); img != "" {
		if err := exec.Command("docker", "image", "inspect", img).Run(); err != nil {
			t.Skipf("skipping: COLLIDE_IMAGE=%s is not on this engine: %v", img, err)
		}
		return img
	}
	const img = "collide:shard-e2e"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join("..", "..", "deploy", "image.sh"), img).CombinedOutput()
	if err != nil {
		t.Skipf("skipping: deploy/image.sh %s failed (the shard containers need the collide image): %v: %s", img, err, strings.TrimSpace(string(out)))
	}
	return img
}

// shardStack is PostgreSQL and the demo, each in a container on one private
// network (stacks.Docker, testcontainers), and the collide image for the
// shards.
type shardStack struct {
	d     *stacks.Docker
	runID string
	img   string
	pg    *stacks.Postgres
	svc   *stacks.Service
}

// newShardStack starts the stack with the demo in mode (racy or safe); the
// containers and the network are removed when the test ends.
func newShardStack(t *testing.T, mode string) *shardStack {
	t.Helper()
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	img := shardImage(t)
	demoImg := testdocker.Image(t, testdocker.EnvDemoImage)
	pgImg := testdocker.Image(t, testdocker.EnvPostgresImage)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runID := "shard-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	d, err := stacks.NewDocker(ctx, runID, t.TempDir())
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close the stack: %v", err)
		}
		if left := testdocker.Leftovers(t, stacks.LabelRun, runID); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	})
	pg, err := d.StartPostgres(ctx, stacks.PostgresConfig{Image: pgImg, User: "collide", Password: "collide", Database: "collide"})
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	svc, err := d.StartService(ctx, stacks.ServiceConfig{
		Image: demoImg, Port: 8080, Health: "/healthz", HealthTimeout: 60 * time.Second,
		Cmd: []string{"demo", "-listen", "0.0.0.0:8080", "-allow-remote", "-db", "postgres", "-dsn", pg.NetDSN, "-mode", mode},
	})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	return &shardStack{d: d, runID: runID, img: img, pg: pg, svc: svc}
}

// shardDSNVar carries the database's DSN: the network's inside the
// containers, the published port's on the host (merge resolves the target's
// host, which only the network knows), so that the profile (and
// its hash) is the same for the shards and for merge.
const (
	shardDSNVar    = "COLLIDE_SHARD_E2E_DSN"
	shardTargetVar = "COLLIDE_SHARD_E2E_TARGET" // the demo's URL, likewise
)

// shardSets point the built-in counter at the demo container, with the
// whole run's rate in bursts per second.
func (s *shardStack) shardSets(rate int) []string {
	var out []string
	for _, kv := range []string{"target.demo=null", "target.url=${" + shardTargetVar + "}", "database.driver=postgres",
		"database.dsn=${" + shardDSNVar + "}", "chaos=[]", fmt.Sprintf("operations[0].rate=%d/s", rate)} {
		out = append(out, "-set", kv)
	}
	return out
}

// runCollide runs collide in a container of the collide image on the
// stack's network, with base bind-mounted at /out, and returns its exit
// code and log. The container is removed before it returns.
func (s *shardStack) runCollide(ctx context.Context, name, base string, args ...string) (int, string, error) {
	c, err := testcontainers.Run(ctx, s.img,
		testcontainers.WithName("collide-"+s.runID+"-"+name),
		testcontainers.WithLabels(map[string]string{stacks.LabelRun: s.runID, stacks.LabelRole: name}),
		network.WithNetworkName([]string{name}, s.d.NetworkName()),
		testcontainers.WithEnv(map[string]string{shardDSNVar: s.pg.NetDSN, shardTargetVar: "http://" + s.svc.NetAddr}),
		testcontainers.WithCmd(args...),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Binds = append(hc.Binds, base+":/out")
		}),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(90*time.Second)),
	)
	if c != nil {
		defer func() {
			tctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = c.Terminate(tctx)
		}()
	}
	if err != nil {
		return -1, "", fmt.Errorf("container %s: %w", name, err)
	}
	var log string
	if rc, err := c.Logs(ctx); err == nil {
		b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		log = string(b)
	}
	st, err := c.State(ctx)
	if err != nil {
		return -1, log, fmt.Errorf("container %s: state: %w", name, err)
	}
	return st.ExitCode, log, nil
}

// shardHostDir is a host folder the collide image's user (uid 65532) can
// write into.
func shardHostDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	if err := os.Chmod(base, 0o777); err != nil {
		t.Fatal(err)
	}
	return base
}

// runShardContainers runs count shard containers of the counter profile
// from one start time (now + lead) and returns their folders on the host
// and their results.
func (s *shardStack) runShardContainers(t *testing.T, base string, count, rate int, lead time.Duration) ([]string, []*report.Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now().Add(lead).UTC().Format(time.RFC3339Nano)
	group := s.runID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	codes := make([]int, count)
	logs := make([]string, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			args := append([]string{"run", "-q", "-allow-remote", "-out", "/out/shard-" + strconv.Itoa(i),
				"-shard", fmt.Sprintf("%d/%d", i, count), "-start-at", start, "-run-group", group}, s.shardSets(rate)...)
			codes[i], logs[i], errs[i] = s.runCollide(ctx, "shard-"+strconv.Itoa(i), base, append(args, "counter")...)
		})
	}
	wg.Wait()
	dirs := make([]string, count)
	results := make([]*report.Result, count)
	for i := range count {
		dirs[i] = filepath.Join(base, "shard-"+strconv.Itoa(i))
		if errs[i] != nil || codes[i] != 0 {
			t.Fatalf("shard %d: exit %d, %v\n%s", i, codes[i], errs[i], logs[i])
		}
		res, err := report.ReadFile(filepath.Join(dirs[i], "result.json"))
		if err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, logs[i])
		}
		if res.Verdict != "partial" || res.Shard == nil || res.Shard.Index != i || res.Shard.Count != count {
			t.Fatalf("shard %d: verdict %s, record %+v", i, res.Verdict, res.Shard)
		}
		results[i] = res
	}
	return dirs, results
}

// mergeOnHost merges the shards' folders in-process, with the database
// reached through its published port.
func (s *shardStack) mergeOnHost(t *testing.T, out string, dirs []string) (int, *report.Result, string) {
	t.Helper()
	t.Setenv(shardDSNVar, s.pg.HostDSN)
	t.Setenv(shardTargetVar, s.svc.HostURL)
	code, stdout, stderr := collide(t, append([]string{"merge", "-q", "-out", out}, dirs...)...)
	res, err := report.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatalf("merge: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	return code, res, stdout + stderr
}

// TestShardContainersMerged is issue 18's proof with real parts: three
// shard containers of the collide image on one Docker network, against the
// demo in a container on PostgreSQL in a container, then collide merge on
// the host: the racy counter fails (exit 1), the safe one passes (exit 0),
// and the merged totals are the shards' sum.
func TestShardContainersMerged(t *testing.T) {
	for _, tc := range []struct {
		mode string
		code int
		want report.Verdict
	}{{"racy", 1, report.Fail}, {"safe", 0, report.Pass}} {
		t.Run(tc.mode, func(t *testing.T) {
			s := newShardStack(t, tc.mode)
			began := time.Now()
			dirs, shards := s.runShardContainers(t, shardHostDir(t), 3, 30, 4*time.Second)
			code, res, out := s.mergeOnHost(t, filepath.Join(t.TempDir(), "merged"), dirs)
			if code != tc.code || res.Verdict != tc.want {
				t.Fatalf("merge: exit %d verdict %s, want %d %s\n%s", code, res.Verdict, tc.code, tc.want, out)
			}
			var sum history.Counts
			for _, r := range shards {
				if r.Totals.Total() == 0 {
					t.Errorf("shard %d sent nothing", r.Shard.Index)
				}
				sum.OK += r.Totals.OK
				sum.Fail += r.Totals.Fail
				sum.Unknown += r.Totals.Unknown
			}
			if res.Totals != sum {
				t.Errorf("merged totals %+v, want the shards' sum %+v", res.Totals, sum)
			}
			if res.Merge == nil || len(res.Merge.Shards) != 3 || res.Merge.Partial {
				t.Errorf("merge record %+v", res.Merge)
			}
			t.Logf("%s: 3 shard containers, %d ops (%d+%d+%d), merged verdict %s, exit %d; shards and merge in %s",
				tc.mode, res.Totals.Total(), shards[0].Totals.Total(), shards[1].Totals.Total(), shards[2].Totals.Total(),
				res.Verdict, code, time.Since(began).Round(100*time.Millisecond))
		})
	}
}

// TestShardContainersPairs (make bench-shard; -shard-pairs N) compares, N
// times per mode on one stack, the merged verdict of three shard containers
// with the verdict of the same total workload run once, unsharded, from one
// container of the same image, and logs how often they agree.
func TestShardContainersPairs(t *testing.T) {
	if *shardPairs <= 0 {
		t.Skip("skipping: paired runs are a measurement; run with -shard-pairs N (make bench-shard)")
	}
	for _, tc := range []struct {
		mode string
		want report.Verdict
	}{{"racy", report.Fail}, {"safe", report.Pass}} {
		t.Run(tc.mode, func(t *testing.T) {
			s := newShardStack(t, tc.mode)
			var agree, shardWant, singleWant int
			for i := range *shardPairs {
				base := shardHostDir(t)
				dirs, _ := s.runShardContainers(t, base, 3, 30, 4*time.Second)
				_, merged, _ := s.mergeOnHost(t, filepath.Join(base, "merged"), dirs)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				args := append([]string{"run", "-q", "-allow-remote", "-out", "/out/single"}, s.shardSets(30)...)
				code, log, err := s.runCollide(ctx, "single", base, append(args, "counter")...)
				cancel()
				if err != nil || (code != 0 && code != 1) {
					t.Fatalf("pair %d: unsharded run: exit %d, %v\n%s", i, code, err, log)
				}
				single := report.Pass
				if code == 1 {
					single = report.Fail
				}
				if merged.Verdict == single {
					agree++
				}
				if merged.Verdict == tc.want {
					shardWant++
				}
				if single == tc.want {
					singleWant++
				}
				t.Logf("pair %d: merged %s (%d ops), unsharded %s", i, merged.Verdict, merged.Totals.Total(), single)
			}
			t.Logf("%s: %d pairs: verdicts agree in %d; merged %s in %d, unsharded %s in %d",
				tc.mode, *shardPairs, agree, tc.want, shardWant, tc.want, singleWant)
		})
	}
}
