package main

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
)

// startRun starts a real collide process on the latency-target profile for
// up to a minute against the toxiproxy at api, and returns it with the name
// of the proxy it created, once that proxy carries its toxic.
func startRun(t *testing.T, api *toxiclient.Client, apiURL string) (*exec.Cmd, string) {
	t.Helper()
	before := collideProxies(t, api)
	cmd := exec.Command(collideBinary(t), "run", "-q", "-toxiproxy", apiURL, "-out", t.TempDir(),
		"-set", "operations[0].duration=60s", profile("latency-target"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		proxies, err := api.Proxies()
		if err == nil {
			for name, p := range proxies {
				if strings.HasPrefix(name, "collide-") && !slices.Contains(before, name) && len(faultToxics(p)) > 0 {
					return cmd, name
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no proxy with a toxic appeared; stderr:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// collideProxies lists the collide proxies on the server, sorted.
func collideProxies(t *testing.T, api *toxiclient.Client) []string {
	t.Helper()
	proxies, err := api.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for name := range proxies {
		if strings.HasPrefix(name, "collide-") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// kill9 kills cmd with SIGKILL mid-attack and waits for it.
func kill9(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // requests in flight through the toxic
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// TestLeftoversOfKilledRuns kills real collide processes with SIGKILL
// mid-attack against an external toxiproxy server (the embedded one, started
// by the test): their proxies and toxics stay behind. `collide clean -n`
// lists the orphan and removes nothing; the next run against the server
// removes it and says so; `collide clean` removes the next orphan and says
// so; a live run's proxy survives all three.
func TestLeftoversOfKilledRuns(t *testing.T) {
	srv, err := chaos.StartEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api := toxiclient.NewClient(srv.URL())

	killed, orphan := startRun(t, api, srv.URL())
	live, liveProxy := startRun(t, api, srv.URL())
	kill9(t, killed)
	if got := collideProxies(t, api); !slices.Contains(got, orphan) {
		t.Fatalf("the killed run's proxy %s is not on the server (%v): the test shows nothing", orphan, got)
	}
	op, err := api.Proxy(orphan)
	if err != nil || len(faultToxics(op)) == 0 {
		t.Fatalf("the orphan %+v lost its toxic before any clean (%v): the test shows nothing", op, err)
	}
	if c, err := net.DialTimeout("tcp", op.Listen, 2*time.Second); err != nil {
		t.Fatalf("the orphan's port %s is not held: %v", op.Listen, err)
	} else {
		c.Close()
	}

	// A dry run lists the orphan, and only it.
	code, stdout, stderr := collide(t, "clean", "-n", "-toxiproxy", srv.URL())
	if code != 0 || !strings.Contains(stdout, "would remove leftover proxy "+orphan) || strings.Contains(stdout, liveProxy) {
		t.Fatalf("clean -n: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("collide clean -n:\n%s", stdout)
	if got := collideProxies(t, api); !slices.Contains(got, orphan) {
		t.Fatalf("clean -n removed %s", orphan)
	}

	// The next run removes it and says so; the live run's proxy stays.
	code, _, stderr = collide(t, "run", "-toxiproxy", srv.URL(), "-out", t.TempDir(), "-format", "none", profile("latency-target"))
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "removed leftover proxy "+orphan) || !strings.Contains(stderr, "is not running") {
		t.Fatalf("the second run does not say it removed %s:\n%s", orphan, stderr)
	}
	t.Logf("second run:\n%s", stderr)
	if strings.Contains(stderr, liveProxy) {
		t.Fatalf("the second run touched the live run's proxy:\n%s", stderr)
	}
	got := collideProxies(t, api)
	if slices.Contains(got, orphan) {
		t.Fatalf("%s still on the server after the second run: %v", orphan, got)
	}
	if c, err := net.DialTimeout("tcp", op.Listen, 2*time.Second); err == nil {
		c.Close()
		t.Fatalf("the orphan's port %s is still held after its proxy was removed", op.Listen)
	}
	if !slices.Contains(got, liveProxy) {
		t.Fatalf("the live run's proxy %s was removed: %v", liveProxy, got)
	}
	if p, err := api.Proxy(liveProxy); err != nil || len(faultToxics(p)) == 0 {
		t.Fatalf("the live run's proxy lost its toxic: %+v, %v", p, err)
	}

	// collide clean removes the next orphan and says so.
	kill9(t, live)
	code, stdout, stderr = collide(t, "clean", "-toxiproxy", srv.URL())
	if code != 0 || !strings.Contains(stdout, "removed leftover proxy "+liveProxy) {
		t.Fatalf("clean: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("collide clean:\n%s", stdout)
	if got := collideProxies(t, api); len(got) != 0 {
		t.Fatalf("proxies left after clean: %v", got)
	}
	code, stdout, _ = collide(t, "clean", "-toxiproxy", srv.URL())
	if code != 0 || !strings.Contains(stdout, "no leftover proxies") {
		t.Fatalf("a second clean: exit %d, stdout:\n%s", code, stdout)
	}
}

// TestCleanUnreachable: a toxiproxy that does not answer is exit 3 with the
// reason.
func TestCleanUnreachable(t *testing.T) {
	code, _, stderr := collide(t, "clean", "-toxiproxy", "http://127.0.0.1:1", "-timeout", "5s")
	if code != 3 || !strings.Contains(stderr, "unreachable") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}
