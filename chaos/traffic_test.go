package chaos_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/profiles"
)

// TestTrafficCounted: three requests on three connections through a link
// with a latency fault are counted — the request bytes up, the responses
// (bigBody and more) down, 3 connections — read by Close before it deletes
// the link; HealAll leaves the counters on and out of the timeline.
func TestTrafficCounted(t *testing.T) {
	e := embedded(t)
	c := newChaos(t, e.URL(), "traffic")
	up := upstream(t)
	l := addLink(t, c, "target", up)
	if _, err := c.Apply(context.Background(), "target", profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: 20 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		mustGet(t, l.Listen, "/big")
	}
	if err := c.HealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	noToxicOn(t, e.URL(), l.Proxy)
	for _, ev := range c.Timeline() {
		if ev.Fault == chaos.CountToxic {
			t.Errorf("timeline holds a counter: %+v", ev)
		}
	}
	if got := c.Traffic(); len(got) != 0 {
		t.Errorf("Traffic() before Close = %+v, want none", got)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.Traffic()
	if len(got) != 1 {
		t.Fatalf("Traffic() = %+v, want one link", got)
	}
	lt := got[0]
	if !lt.Measured() || lt.BytesUp == nil || lt.BytesDown == nil || lt.Connections == nil {
		t.Fatalf("traffic not measured: %+v", lt)
	}
	t.Logf("target link: %d bytes up, %d down, %d connections", *lt.BytesUp, *lt.BytesDown, *lt.Connections)
	if lt.Link != "target" || lt.Listen != l.Listen || lt.Upstream != up {
		t.Errorf("traffic names %+v, want link %+v", lt, l)
	}
	if *lt.BytesUp < 3*int64(len("GET /big HTTP/1.1\r\n")) || *lt.BytesDown < 3*bigBody || *lt.Connections != 3 {
		t.Errorf("traffic %d up, %d down, %d connections; want ≥ 3 requests up, ≥ %d down, 3 connections",
			*lt.BytesUp, *lt.BytesDown, *lt.Connections, 3*bigBody)
	}
}

// TestTrafficUnmeasuredOnPlainServer: a stock toxiproxy-server has no
// counting toxic; the link still works, and its traffic is reported as not
// measured (no counts), not as zero.
func TestTrafficUnmeasuredOnPlainServer(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "toxiproxy-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/Shopify/toxiproxy/v2/cmd/server").CombinedOutput(); err != nil {
		t.Fatalf("go build toxiproxy-server: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	ln.Close()
	srv := exec.Command(bin, "-host", "127.0.0.1", "-port", port)
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	apiURL := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(apiURL + "/version"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("toxiproxy-server did not come up:\n%s", log.String())
		}
	}

	c := newChaos(t, apiURL, "plain")
	l := addLink(t, c, "target", upstream(t))
	mustGet(t, l.Listen, "/")
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := c.Traffic()
	if len(got) != 1 {
		t.Fatalf("Traffic() = %+v, want one link", got)
	}
	lt := got[0]
	if lt.Measured() || lt.BytesUp != nil || lt.BytesDown != nil || lt.Connections != nil {
		t.Fatalf("traffic on a stock server = %+v, want unmeasured", lt)
	}
	if !strings.Contains(lt.Unmeasured, chaos.CountToxic) {
		t.Errorf("unmeasured = %q, want it to name %s", lt.Unmeasured, chaos.CountToxic)
	}
	t.Logf("unmeasured: %s", lt.Unmeasured)
}
