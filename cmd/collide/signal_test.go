package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/report"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// collideBinary builds the real collide command once per test binary.
func collideBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "collide-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "collide")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build collide: %v", buildErr)
	}
	return binPath
}

// TestSignalsRemoveEverything kills a real collide process mid-attack, once
// gracefully (one SIGINT) and once impatiently (two), and checks through an
// external toxiproxy's API that nothing of the run remains.
func TestSignalsRemoveEverything(t *testing.T) {
	bin := collideBinary(t)
	for _, tc := range []struct {
		name    string
		signals int
	}{
		{"one SIGINT", 1},
		{"two SIGINTs", 2},
		{"SIGTERM", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := chaos.StartEmbedded(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			api := toxiclient.NewClient(srv.URL())
			out := t.TempDir()
			cmd := exec.Command(bin, "run", "-q", "-toxiproxy", srv.URL(), "-out", out,
				"-set", "operations[0].duration=60s", profile("latency-target"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()

			// Wait until the run's proxy carries its toxic.
			deadline := time.Now().Add(20 * time.Second)
			for {
				if withToxics(t, api) > 0 {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("no toxic appeared; stderr:\n%s", stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			// Some requests sent and in flight (150 ms each behind the
			// toxic): the attack starts after the toxic, later still on a
			// loaded machine, and a run stopped before its first request
			// has no ops to keep (300 ms missed that once in five).
			time.Sleep(time.Second)
			switch tc.signals {
			case -1:
				cmd.Process.Signal(syscall.SIGTERM)
			default:
				for range tc.signals {
					cmd.Process.Signal(os.Interrupt)
					time.Sleep(20 * time.Millisecond)
				}
			}
			if code := exitCode(t, cmd, done, 20*time.Second, &stderr); code != 130 {
				t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
			}
			proxies, err := api.Proxies()
			if err != nil {
				t.Fatal(err)
			}
			for name := range proxies {
				if strings.HasPrefix(name, "collide-") {
					t.Fatalf("proxy %s left behind; stderr:\n%s", name, stderr.String())
				}
			}
			if tc.signals == 1 || tc.signals == -1 {
				res, err := report.ReadFile(out)
				if err != nil {
					t.Fatalf("no readable result after a graceful stop: %v", err)
				}
				if res.Verdict != report.Interrupted || res.Totals.Total() == 0 {
					t.Fatalf("verdict %s with %d ops, want interrupted with the ops so far", res.Verdict, res.Totals.Total())
				}
			}
			if st, err := os.Stat(filepath.Join(out, "history.jsonl")); err != nil || st.Size() == 0 {
				t.Fatalf("history not kept: %v", err)
			}
		})
	}
}

// exitCode waits, at most within after a signal, for cmd to exit (done
// carries its Wait's error) and returns its exit code; a process still
// running by then is killed and the test fails.
func exitCode(t *testing.T, cmd *exec.Cmd, done <-chan error, within time.Duration, stderr *strings.Builder) int {
	t.Helper()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(within):
		cmd.Process.Kill()
		t.Fatalf("%s did not exit within %v of the signal; stderr:\n%s", cmd.Args[0:2], within, stderr.String())
		return -1
	}
}

func withToxics(t *testing.T, api *toxiclient.Client) int {
	proxies, err := api.Proxies()
	if err != nil {
		return 0
	}
	n := 0
	for name, p := range proxies {
		if strings.HasPrefix(name, "collide-") {
			n += len(faultToxics(p))
		}
	}
	return n
}

// faultToxics lists p's toxics but collide's traffic counters
// (chaos.CountToxic), which every link has from its start.
func faultToxics(p *toxiclient.Proxy) []toxiclient.Toxic {
	var out []toxiclient.Toxic
	for _, tx := range p.ActiveToxics {
		if tx.Type != chaos.CountToxic {
			out = append(out, tx)
		}
	}
	return out
}
