package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/internal/testdocker"
	"github.com/collide-dev/collide/report"
	"github.com/collide-dev/collide/stacks"
)

// containerSets turns the built-in counter profile into a container stack:
// PostgreSQL, the demo service and Toxiproxy on a private network, from the
// images .ci/images.sh builds, with a latency fault on the database link.
func containerSets(t *testing.T, mode string) []string {
	t.Helper()
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	demo := testdocker.Image(t, testdocker.EnvDemoImage)
	pg := testdocker.Image(t, testdocker.EnvPostgresImage)
	tp := testdocker.Image(t, testdocker.EnvToxiproxyImage)
	return []string{
		"-set", fmt.Sprintf(`target={container: {image: %s, cmd: [demo, -listen, "0.0.0.0:{{port}}", -allow-remote, -db, postgres, -dsn, "{{database_dsn}}", -mode, %s], health: /healthz, toxiproxy_image: %s}}`, demo, mode, tp),
		"-set", fmt.Sprintf(`database={driver: postgres, container: {image: %s}}`, pg),
		"-set", "chaos=[{link: database, fault: latency, latency: 2ms}]",
	}
}

// TestContainersStack runs the built-in counter profile against the demo in
// a container stack: racy fails (exit 1), safe passes (exit 0); afterwards
// no container or network of the run remains.
func TestContainersStack(t *testing.T) {
	for _, tc := range []struct {
		mode string
		code int
	}{{"racy", 1}, {"safe", 0}} {
		t.Run(tc.mode, func(t *testing.T) {
			sets := containerSets(t, tc.mode)
			out := t.TempDir()
			start := time.Now()
			code, stdout, stderr := collide(t, append(append([]string{"run", "-out", out}, sets...), "counter")...)
			took := time.Since(start)
			res, rerr := report.ReadFile(out)
			if rerr != nil {
				t.Fatalf("exit %d: %v\n%s\n%s", code, rerr, stdout, stderr)
			}
			if left := testdocker.Leftovers(t, stacks.LabelRun, res.RunID); len(left) > 0 {
				t.Errorf("left behind by run %s: %v", res.RunID, left)
			}
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.HasPrefix(res.Target, "container ") || !strings.Contains(res.Database, "postgres container") {
				t.Errorf("result target %q, database %q", res.Target, res.Database)
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
			for _, f := range []string{"service.log", "postgres.log", "toxiproxy.log", "docker.log"} {
				if st, err := os.Stat(filepath.Join(out, f)); err != nil || (f != "docker.log" && st.Size() == 0) {
					t.Errorf("run folder: %s: %v", f, err)
				}
			}
			t.Logf("containers run (%s): exit %d in %v (run %v)", tc.mode, code, took.Round(time.Millisecond), res.Finished.Sub(res.Started).Round(time.Millisecond))
		})
	}
}

// TestContainersRefuseExternalToxiproxy: a container stack has its own
// Toxiproxy; --toxiproxy is a usage error.
func TestContainersRefuseExternalToxiproxy(t *testing.T) {
	code, _, stderr := collide(t, "run", "-q", "-out", t.TempDir(), "-toxiproxy", "http://127.0.0.1:8474",
		"-set", "target={container: {image: x}}", "-set", "database={driver: postgres, container: {}}", "counter")
	if code != 2 || !strings.Contains(stderr, "target.container: cannot use --toxiproxy") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// TestContainersInterrupted: a run interrupted mid-attack (Ctrl-C) removes
// its containers and network too.
func TestContainersInterrupted(t *testing.T) {
	sets := containerSets(t, "safe")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		args := append(append([]string{"run", "-q", "-out", t.TempDir()}, sets...), "-set", "operations[0].duration=60s", "counter")
		done <- dispatch(ctx, args, &stdout, &stderr)
	}()
	pid := strconv.Itoa(os.Getpid())
	deadline := time.Now().Add(45 * time.Second)
	for {
		out, _ := exec.Command("docker", "ps", "-q", "--filter", "label="+stacks.LabelPID+"="+pid, "--filter", "label="+stacks.LabelRole+"=service").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service container never started\n%s", stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second) // into the attack
	cancel()
	select {
	case code := <-done:
		if code != 130 {
			t.Fatalf("exit %d, want 130\n%s\n%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not end after the interrupt")
	}
	if left := testdocker.Leftovers(t, stacks.LabelPID, pid); len(left) > 0 {
		t.Fatalf("left behind after the interrupt: %v", left)
	}
}
