package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/internal/testpg"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// goBuild builds pkg (a path in this module or a dependency) into dir with
// the default flags, so that the build cache of other builds is reused.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	start := time.Now()
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	t.Logf("built %s in %v", pkg, time.Since(start).Round(time.Millisecond))
	return bin
}

// survivors lists the live (not zombie) processes whose command line
// contains marker, e.g. the path of a binary in the test's temporary folder.
func survivors(t *testing.T, marker string) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || e.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z")) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// TestCommandTarget builds collide, runs its demo as the service under test
// (target.command) on PostgreSQL with a latency fault on the database link,
// and runs the built-in counter profile through it: racy fails, safe passes,
// and no process of the service survives either run.
func TestCommandTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are Unix-only")
	}
	bin := goBuild(t, t.TempDir(), "collide", ".")
	for _, tc := range []struct {
		mode string
		code int
	}{{"racy", 1}, {"safe", 0}} {
		t.Run(tc.mode, func(t *testing.T) {
			out := t.TempDir()
			target := fmt.Sprintf(`target={command: {run: [%s, demo, -listen, "127.0.0.1:{{port}}", -db, postgres, -dsn, "{{database_dsn}}", -mode, %s], health: /healthz, health_timeout: 30s}}`, bin, tc.mode)
			code, stdout, stderr := collide(t, "run", "-out", out, "-set", target,
				"-set", "database.driver=postgres", "-set", "database.dsn="+testpg.New(t),
				"-set", "chaos=[{link: database, fault: latency, latency: 2ms}]", "counter")
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if left := survivors(t, bin); len(left) > 0 {
				t.Fatalf("processes of the service survived the run: %v", left)
			}
			res, err := report.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(res.Target, "command ") {
				t.Errorf("result target = %q", res.Target)
			}
			var dbEvents int
			for _, e := range res.Chaos {
				if e.Link == "database" {
					dbEvents++
				}
			}
			if dbEvents < 2 {
				t.Errorf("no latency added and removed on the database link: %+v", res.Chaos)
			}
			if log, err := os.ReadFile(filepath.Join(out, "service.log")); err != nil || !strings.Contains(string(log), "demo service ("+tc.mode) {
				t.Errorf("service.log: %v\n%s", err, log)
			}
			if !strings.Contains(stderr, "healthy on http://127.0.0.1:") {
				t.Errorf("progress lacks the service start:\n%s", stderr)
			}
		})
	}
}

// TestCommandTargetInterrupted: a run interrupted during the attack stops
// the service too.
func TestCommandTargetInterrupted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("process groups are Unix-only")
	}
	bin := goBuild(t, t.TempDir(), "collide", ".")
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- dispatch(ctx, []string{"run", "-q", "-out", out,
			"-set", fmt.Sprintf(`target={command: {run: [%s, demo, -listen, "127.0.0.1:{{port}}", -db, sqlite, -dsn, "{{database_dsn}}"], health: /healthz}}`, bin),
			"-set", "operations[0].duration=30s", "counter"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(survivors(t, bin)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the service never started\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	cancel()
	select {
	case code := <-done:
		if code != 130 {
			t.Fatalf("exit %d, want 130\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not end after the interrupt")
	}
	if left := survivors(t, bin); len(left) > 0 {
		t.Fatalf("processes of the service survived the interrupt: %v", left)
	}
}

// TestCommandTargetStartFailures: a service that exits early or never gets
// healthy is an environment error (exit 3) naming service.log and quoting
// its last lines, and it is stopped.
func TestCommandTargetStartFailures(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs sh")
	}
	marker := fmt.Sprintf("37.%d", time.Now().UnixNano()%1e6)
	for _, tc := range []struct {
		name    string
		command string
		want    []string
	}{
		{"exits early", `{run: [sh, -c, "echo starting; echo fatal: no config file >&2; exit 7"]}`,
			[]string{"exited before it was healthy (exit status 7)", "service.log", "starting | fatal: no config file"}},
		{"never healthy", `{run: [sh, -c, "echo waiting; exec sleep ` + marker + `"], health: /healthz, health_timeout: 1s}`,
			[]string{"not healthy after 1s", "service.log", "waiting"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := collide(t, "run", "-q", "-out", out, "-set", "target={command: "+tc.command+"}", "counter")
			if code != 3 {
				t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if !strings.Contains(stderr, filepath.Join(out, "service.log")) {
				t.Errorf("stderr does not name the log file %s:\n%s", filepath.Join(out, "service.log"), stderr)
			}
			if left := survivors(t, "sleep "+marker); len(left) > 0 {
				t.Fatalf("the service survived: %v", left)
			}
		})
	}
}

// TestExternalToxiproxyServer runs a profile against a real toxiproxy-server
// (Toxiproxy's own cmd/server, built here) that another team shares: the run
// creates its proxies there, and removes exactly those.
func TestExternalToxiproxyServer(t *testing.T) {
	dir := t.TempDir()
	server := goBuild(t, dir, "toxiproxy-server", "github.com/Shopify/toxiproxy/v2/cmd/server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	srv := exec.Command(server, "-host", "127.0.0.1", "-port", port)
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	apiURL := "http://127.0.0.1:" + port
	api := toxiclient.NewClient(apiURL)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(apiURL + "/version"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("toxiproxy-server did not come up:\n%s", srvLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Another team's proxy, with a toxic, on the shared server.
	theirs, err := api.CreateProxy("team-b-payments", "127.0.0.1:0", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.AddToxic("slow", "latency", "downstream", 1, toxiclient.Attributes{"latency": 100}); err != nil {
		t.Fatal(err)
	}

	// Watch the server while the run goes: its proxies must appear there.
	var mu sync.Mutex
	seen := map[string]bool{}
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if ps, err := api.Proxies(); err == nil {
				mu.Lock()
				for name := range ps {
					seen[name] = true
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	res := runResult(t, 0, "run", "-q", "-toxiproxy", apiURL, profile("latency-target"))
	close(stop)
	<-watched

	prefix := "collide-" + res.RunID + "-"
	mu.Lock()
	var created []string
	for name := range seen {
		if strings.HasPrefix(name, prefix) {
			created = append(created, name)
		}
	}
	mu.Unlock()
	if len(created) == 0 {
		t.Fatalf("no proxy of the run (%s*) was seen on the server; seen: %v", prefix, seen)
	}
	left, err := api.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left["team-b-payments"] == nil {
		names := make([]string, 0, len(left))
		for n := range left {
			names = append(names, n)
		}
		t.Fatalf("proxies left on the server: %v, want only team-b-payments", names)
	}
	toxics, err := left["team-b-payments"].Toxics()
	if err != nil || len(toxics) != 1 || toxics[0].Name != "slow" {
		t.Fatalf("the other team's toxic was touched: %+v, %v", toxics, err)
	}
	t.Logf("run %s created %v on the shared server and removed them; team-b-payments and its toxic survive", res.RunID, created)
}

// TestStackProfiles: the example stack profiles validate, and the stack
// defaults are filled in.
func TestStackProfiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "stacks", "*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("stack profiles: %v %v", files, err)
	}
	code, stdout, stderr := collide(t, append([]string{"validate"}, files...)...)
	if code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	p, err := profiles.Load(filepath.Join("..", "..", "testdata", "stacks", "containers-demo.yaml"), []string{
		"target.container.port=", "target.container.toxiproxy_image=", "target.container.health_timeout=", "database.container.image="})
	if err != nil {
		t.Fatal(err)
	}
	c, d := p.Target.Container, p.Database.Container
	if c.Port != 8080 || c.ToxiproxyImage != "ghcr.io/shopify/toxiproxy:2.12.0" || c.HealthTimeout.D() != 30*time.Second ||
		d.Image != "postgres:15-alpine" || d.User != "collide" || d.Password != "collide" || d.Name != "collide" {
		t.Fatalf("defaults: %+v %+v", c, d)
	}
	p, err = profiles.Load("counter", []string{"target={command: {run: [./shop]}}"})
	if err != nil {
		t.Fatal(err)
	}
	if cmd := p.Target.Command; cmd.URL != "http://127.0.0.1:{{port}}" || cmd.HealthTimeout.D() != 30*time.Second {
		t.Fatalf("command defaults: %+v", cmd)
	}
}
