package chaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/profiles"
)

func TestAddLinkReadsBackListenAddress(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "r1")
	l := addLink(t, c, "target", up)

	if l.Name != "target" || l.Proxy != chaos.ProxyName("r1", "target") || l.Upstream != up {
		t.Fatalf("link = %+v", l)
	}
	host, port, err := net.SplitHostPort(l.Listen)
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("listen = %q, want 127.0.0.1:<real port>", l.Listen)
	}
	if p := serverProxies(t, e.URL())[chaos.ProxyName("r1", "target")]; p == nil || p.Listen != l.Listen {
		t.Fatalf("server proxy = %+v, want listen %s", p, l.Listen)
	}
	mustGet(t, l.Listen, "/")
	if got, ok := c.Link("target"); !ok || got != *l {
		t.Errorf("Link(target) = %+v, %v", got, ok)
	}
	if ls := c.Links(); len(ls) != 1 || ls[0] != *l {
		t.Errorf("Links() = %+v", ls)
	}
}

func TestAddLinkAtFixedAddress(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newChaos(t, e.URL(), "at")
	l, err := c.AddLinkAt(context.Background(), "database", addr, up)
	if err != nil {
		t.Fatal(err)
	}
	if l.Listen != addr || l.Proxy != chaos.ProxyName("at", "database") {
		t.Fatalf("link = %+v, want listen %s", l, addr)
	}
	mustGet(t, addr, "/")
	toxic, err := c.Apply(context.Background(), "database", profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(context.Background(), "database", toxic); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddLinkAt(context.Background(), "x", "no-port", up); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("bad listen address: %v", err)
	}
}

func TestAddLinkErrors(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	ctx := context.Background()

	t.Run("unreachable API names the URL", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + ln.Addr().String()
		ln.Close()
		c := newChaos(t, dead, "r1")
		_, err = c.AddLink(ctx, "target", up)
		if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("err = %v, want unreachable with %s", err, dead)
		}
		t.Log(err)
	})
	t.Run("duplicate link", func(t *testing.T) {
		c := newChaos(t, e.URL(), "dup")
		addLink(t, c, "target", up)
		if _, err := c.AddLink(ctx, "target", up); err == nil || !strings.Contains(err.Error(), "already added") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		c := newChaos(t, e.URL(), "bad/run")
		if _, err := c.AddLink(ctx, "target", up); err == nil || !strings.Contains(err.Error(), "run id") {
			t.Fatalf("err = %v", err)
		}
		c2 := newChaos(t, e.URL(), "ok")
		if _, err := c2.AddLink(ctx, "a/b", up); err == nil || !strings.Contains(err.Error(), "link name") {
			t.Fatalf("err = %v", err)
		}
		if _, err := c2.AddLink(ctx, "target", "no-port"); err == nil || !strings.Contains(err.Error(), "host:port") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("name taken by someone else's proxy is refused and left alone", func(t *testing.T) {
		other := client.NewClient(e.URL())
		if _, err := other.CreateProxy(chaos.ProxyName("taken", "target"), "127.0.0.1:0", up); err != nil {
			t.Fatal(err)
		}
		c := chaos.New(e.URL(), "taken")
		_, err := c.AddLink(ctx, "target", up)
		if err == nil || !strings.Contains(err.Error(), "409") {
			t.Fatalf("err = %v, want HTTP 409", err)
		}
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if serverProxies(t, e.URL())[chaos.ProxyName("taken", "target")] == nil {
			t.Fatal("Close deleted a proxy it did not create")
		}
	})
}

// TestLatencyIsReal: a 150ms latency toxic makes a request through the link
// take ≥150ms; after Remove, and after HealAll, it is back under 50ms.
func TestLatencyIsReal(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	ctx := context.Background()
	for _, stream := range []string{"upstream", "downstream", ""} {
		name := stream
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			c := newChaos(t, e.URL(), "lat-"+name)
			l := addLink(t, c, "target", up)
			f := profiles.Fault{Fault: "latency", Stream: stream, Params: fault.Latency{Latency: 150 * time.Millisecond}}

			base := mustGet(t, l.Listen, "/")
			toxic, err := c.Apply(ctx, "target", f)
			if err != nil {
				t.Fatal(err)
			}
			slow := mustGet(t, l.Listen, "/")
			if err := c.Remove(ctx, "target", toxic); err != nil {
				t.Fatal(err)
			}
			noToxicOn(t, e.URL(), l.Proxy)
			healed := mustGet(t, l.Listen, "/")
			if _, err := c.Apply(ctx, "target", f); err != nil {
				t.Fatal(err)
			}
			slow2 := mustGet(t, l.Listen, "/")
			if err := c.HealAll(ctx); err != nil {
				t.Fatal(err)
			}
			noToxicOn(t, e.URL(), l.Proxy)
			healed2 := mustGet(t, l.Listen, "/")
			t.Logf("stream %s: base %v, with toxic %v / %v, after Remove %v, after HealAll %v",
				name, base, slow, slow2, healed, healed2)

			// With the toxic, at least its latency (a loaded machine only
			// adds); without, the server holds no toxic (checked above) —
			// how fast a request then is, is not this test's business.
			if slow < 150*time.Millisecond || slow2 < 150*time.Millisecond {
				t.Errorf("with toxic: %v, %v; want ≥ 150ms", slow, slow2)
			}
			tl := c.Timeline()
			want := []string{"added", "removed", "added", "removed"}
			if len(tl) != len(want) {
				t.Fatalf("timeline = %+v", tl)
			}
			wantStream := stream
			if wantStream == "" {
				wantStream = "downstream"
			}
			for i, ev := range tl {
				if ev.Action != want[i] || ev.Link != "target" || ev.Fault != "latency" || ev.Stream != wantStream ||
					ev.Toxicity != 1 || ev.Attributes["latency"] != int64(150) {
					t.Errorf("event %d = %+v", i, ev)
				}
			}
			if a := c.Active(); len(a) != 0 {
				t.Errorf("Active() after HealAll = %v", a)
			}
		})
	}
}

// TestRemoveOlderToxicKeepsNewer: removing a toxic below a newer one on the
// same stream (done by lifting the newer one off and back on) leaves the newer
// one in effect under the same name.
func TestRemoveOlderToxicKeepsNewer(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "older")
	l := addLink(t, c, "target", up)
	ctx := context.Background()
	older, err := c.Apply(ctx, "target", profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	newer, err := c.Apply(ctx, "target", profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: 60 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Apply(ctx, "target", profiles.Fault{Fault: "limit_data", Stream: "upstream", Params: fault.LimitData{Bytes: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	both := mustGet(t, l.Listen, "/")
	if err := c.Remove(ctx, "target", older); err != nil {
		t.Fatal(err)
	}
	one := mustGet(t, l.Listen, "/")
	t.Logf("150ms+60ms latency: %v; after removing the older 150ms: %v", both, one)
	// At least the latencies in effect; that the older one is gone is
	// read from the server below, not from a time.
	if both < 210*time.Millisecond || one < 60*time.Millisecond {
		t.Errorf("request took %v with both toxics, %v with the newer only", both, one)
	}
	var names []string
	for _, tx := range faults(serverProxies(t, e.URL())[l.Proxy]) {
		names = append(names, tx.Name)
	}
	if strings.Join(names, " ") != other+" "+newer && strings.Join(names, " ") != newer+" "+other {
		t.Errorf("toxics on the server = %v, want %s and %s", names, newer, other)
	}
	if a := c.Active(); strings.Join(a, " ") != "target:latency target:limit_data" {
		t.Errorf("Active() = %v", a)
	}
	var actions []string
	for _, ev := range c.Timeline() {
		actions = append(actions, ev.Action+" "+ev.Toxic)
	}
	want := "added " + older + ", added " + newer + ", added " + other + ", removed " + older
	if strings.Join(actions, ", ") != want {
		t.Errorf("timeline = %v, want %s", actions, want)
	}
}

func TestResetPeerFailsTheRequest(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "reset")
	l := addLink(t, c, "target", up)
	mustGet(t, l.Listen, "/")
	for _, stream := range []string{"upstream", "downstream"} {
		toxic, err := c.Apply(context.Background(), "target", profiles.Fault{Fault: "reset_peer", Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		_, err = get(l.Listen, "/", 2*time.Second)
		if err == nil {
			t.Fatalf("%s: request succeeded through reset_peer", stream)
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err = %v, want connection reset or EOF", stream, err)
		}
		t.Logf("%s: %v", stream, err)
		if err := c.Remove(context.Background(), "target", toxic); err != nil {
			t.Fatal(err)
		}
		mustGet(t, l.Listen, "/")
	}
}

func TestTimeoutToxicHoldsTheRequest(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "timeout")
	l := addLink(t, c, "target", up)
	ctx := context.Background()

	// timeout 0: data is swallowed and the connection held open, whichever
	// way the toxic sits.
	for _, stream := range []string{"upstream", "downstream"} {
		if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "timeout", Stream: stream}); err != nil {
			t.Fatal(err)
		}
		d, err := get(l.Listen, "/", 300*time.Millisecond)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() || d < 300*time.Millisecond {
			t.Fatalf("%s: err = %v after %v, want a client timeout", stream, err, d)
		}
		t.Logf("timeout 0 %s: client gave up after %v: %v", stream, d, err)
		if err := c.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// timeout 100ms: the connection is closed after 100ms, before the client's.
	if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "timeout", Params: fault.Timeout{Timeout: 100 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	d, err := get(l.Listen, "/", 10*time.Second)
	var ne net.Error
	if err == nil || d < 100*time.Millisecond || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("err = %v after %v, want the connection closed by the toxic after 100ms or more, before the client gave up", err, d)
	}
	t.Logf("timeout 100ms: failed after %v: %v", d, err)
	if err := c.HealAll(ctx); err != nil {
		t.Fatal(err)
	}
	mustGet(t, l.Listen, "/")
}

// TestOtherKindsAreReal checks bandwidth, slow_close and limit_data against
// real traffic.
func TestOtherKindsAreReal(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "kinds")
	l := addLink(t, c, "target", up)
	ctx := context.Background()

	t.Run("bandwidth", func(t *testing.T) {
		base := mustGet(t, l.Listen, "/big")
		// 50 KB at 100 KB/s: about 500ms.
		if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "bandwidth", Params: fault.Bandwidth{Rate: 100}}); err != nil {
			t.Fatal(err)
		}
		slow := mustGet(t, l.Listen, "/big")
		if err := c.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("50KB: %v free, %v at 100KB/s", base, slow)
		if slow < 350*time.Millisecond {
			t.Errorf("base %v, limited %v; want the limited one ≥ 350ms", base, slow)
		}
	})
	t.Run("slow_close", func(t *testing.T) {
		_, base := rawExchange(t, l.Listen)
		if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "slow_close", Params: fault.SlowClose{Delay: 200 * time.Millisecond}}); err != nil {
			t.Fatal(err)
		}
		b, slow := rawExchange(t, l.Listen)
		if err := c.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
		t.Logf("close after %v free, %v with slow_close 200ms", base, slow)
		if !strings.HasSuffix(string(b), "ok") || slow < 200*time.Millisecond {
			t.Errorf("base %v, slow %v, body %q", base, slow, b)
		}
	})
	t.Run("limit_data", func(t *testing.T) {
		full, _ := rawExchange(t, l.Listen)
		if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "limit_data", Params: fault.LimitData{Bytes: 10}}); err != nil {
			t.Fatal(err)
		}
		cut, _ := rawExchange(t, l.Listen)
		if err := c.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
		if len(cut) != 10 || len(full) <= 10 {
			t.Errorf("got %d bytes with limit_data 10 (%d without)", len(cut), len(full))
		}
	})
	t.Run("toxicity 0 never applies", func(t *testing.T) {
		if _, err := c.Apply(ctx, "target", profiles.Fault{Fault: "reset_peer", Toxicity: f64(0)}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			mustGet(t, l.Listen, "/")
		}
		if err := c.HealAll(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestApplyErrors(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), "apply")
	addLink(t, c, "target", up)
	ctx := context.Background()
	for _, tc := range []struct {
		name, link string
		f          profiles.Fault
		want       string
	}{
		{"invalid fault names the field", "target", profiles.Fault{Fault: "latency"}, "latency: must be > 0"},
		{"unknown link lists links", "database", profiles.Fault{Fault: "reset_peer"}, `no link "database" (links: target)`},
		{"fault for another link", "target", profiles.Fault{Link: "database", Fault: "reset_peer"}, `fault is for link "database"`},
		{"unknown kind", "target", profiles.Fault{Fault: "gremlins"}, "known: bandwidth, cut_after_statement, latency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Apply(ctx, tc.link, tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Removing a toxic that is already gone counts as removed.
	if err := c.Remove(ctx, "target", "no_such_toxic"); err != nil {
		t.Fatalf("Remove of a missing toxic: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Apply(cancelled, "target", profiles.Fault{Fault: "reset_peer"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with cancelled ctx: %v", err)
	}
}

// TestCloseRemovesOnlyItsOwn: after Close, no proxy with the run's prefix is
// left, while another team's proxy (with its toxic) and another run's proxies
// on the same server survive.
func TestCloseRemovesOnlyItsOwn(t *testing.T) {
	up := upstream(t)
	e := embedded(t)
	ctx := context.Background()

	other := client.NewClient(e.URL())
	theirs, err := other.CreateProxy("someone-else", "127.0.0.1:0", up)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := theirs.AddToxic("their_latency", "latency", "", 1, client.Attributes{"latency": 5}); err != nil {
		t.Fatal(err)
	}

	mine := chaos.New(e.URL(), "run-a")
	neighbour := newChaos(t, e.URL(), "run-a2") // shares a prefix with run-a's
	for _, name := range []string{"target", "database"} {
		l := addLink(t, mine, name, up)
		if _, err := mine.Apply(ctx, name, profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: time.Millisecond}}); err != nil {
			t.Fatal(err)
		}
		mustGet(t, l.Listen, "/") // an open-and-closed connection through it
	}
	nl := addLink(t, neighbour, "target", up)
	targetListen := mine.Links()[0].Listen

	// Cancelled context: Close must still clean up.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := mine.Close(cancelled); err != nil {
		t.Fatal(err)
	}

	ps := serverProxies(t, e.URL())
	for name := range ps {
		if strings.HasPrefix(name, mine.ProxyPrefix()) {
			t.Errorf("proxy %s survived Close", name)
		}
	}
	if p := ps["someone-else"]; p == nil || len(p.ActiveToxics) != 1 {
		t.Errorf("someone else's proxy = %+v, want it with its toxic", p)
	}
	if ps[chaos.ProxyName("run-a2", "target")] == nil {
		t.Error("the neighbouring run's proxy was deleted")
	}
	mustGet(t, nl.Listen, "/")
	if conn, err := net.DialTimeout("tcp", targetListen, time.Second); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after Close", targetListen)
	}

	// Idempotent, and everything after it refuses politely.
	if err := mine.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := mine.AddLink(ctx, "x", up); !errors.Is(err, chaos.ErrClosed) {
		t.Errorf("AddLink after Close: %v", err)
	}
	if _, err := mine.Apply(ctx, "target", profiles.Fault{Fault: "reset_peer"}); !errors.Is(err, chaos.ErrClosed) {
		t.Errorf("Apply after Close: %v", err)
	}
	if err := mine.HealAll(ctx); err != nil {
		t.Errorf("HealAll after Close: %v", err)
	}
	tl := mine.Timeline()
	removed := 0
	for _, ev := range tl {
		if ev.Action == chaos.ActionRemoved {
			removed++
		}
	}
	if removed != 2 || len(mine.Active()) != 0 {
		t.Errorf("timeline after Close = %+v, active %v", tl, mine.Active())
	}
}

// TestExternalServer points a Chaos at a second, separate server (a stand-in
// for an external toxiproxy-server): its proxies go there and only there.
func TestExternalServer(t *testing.T) {
	up := upstream(t)
	local, external := embedded(t), embedded(t)
	c := newChaos(t, strings.TrimPrefix(external.URL(), "http://"), "ext") // host:port form
	if c.APIURL() != external.URL() {
		t.Errorf("APIURL() = %s, want %s", c.APIURL(), external.URL())
	}
	l := addLink(t, c, "target", up)
	if _, err := c.Apply(context.Background(), "target", profiles.Fault{Fault: "latency", Params: fault.Latency{Latency: 100 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if d := mustGet(t, l.Listen, "/"); d < 100*time.Millisecond {
		t.Errorf("request took %v through the external server's link", d)
	}
	if len(serverProxies(t, local.URL())) != 0 {
		t.Error("proxies appeared on the other server")
	}
	if p := serverProxies(t, external.URL())[chaos.ProxyName("ext", "target")]; p == nil || len(faults(p)) != 1 {
		t.Errorf("external proxy = %+v", p)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(serverProxies(t, external.URL())); n != 0 {
		t.Errorf("%d proxies left on the external server", n)
	}
}

func TestEmbeddedClose(t *testing.T) {
	up := upstream(t)
	e, err := chaos.StartEmbedded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.NewClient(e.URL()).Version(); err != nil {
		t.Fatal(err)
	}
	c := chaos.New(e.URL(), "emb")
	l := addLink(t, c, "target", up)
	mustGet(t, l.Listen, "/")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := client.NewClient(e.URL()).Version(); err == nil {
		t.Error("API still answers after Close")
	}
	if conn, err := net.DialTimeout("tcp", l.Listen, time.Second); err == nil {
		conn.Close()
		t.Error("proxy still listening after Close")
	}
	// The server is gone: Close reports it, naming the URL.
	if err := c.Close(context.Background()); err == nil || !strings.Contains(err.Error(), e.URL()) {
		t.Errorf("Chaos.Close with the server gone: %v", err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := chaos.StartEmbedded(cancelled); err == nil {
		t.Error("StartEmbedded with a cancelled context succeeded")
	}
}

func TestEventJSON(t *testing.T) {
	ev := chaos.Event{At: time.Unix(0, 0).UTC(), Offset: 1500 * time.Millisecond, Link: "target", Fault: "latency",
		Toxic: "latency_downstream_1", Action: "failed", Stream: "downstream", Toxicity: 1,
		Attributes: map[string]any{"latency": 150}, Error: "boom"}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"1970-01-01T00:00:00Z","offset_ns":1500000000,"link":"target","fault":"latency","toxic":"latency_downstream_1","action":"failed","stream":"downstream","toxicity":1,"attributes":{"latency":150},"error":"boom"}`
	if string(b) != want {
		t.Errorf("json = %s\nwant   %s", b, want)
	}
	lb, _ := json.Marshal(chaos.Link{Name: "target", Proxy: "p", Listen: "l", Upstream: "u"})
	if string(lb) != `{"name":"target","proxy":"p","listen":"l","upstream":"u"}` {
		t.Errorf("link json = %s", lb)
	}
}
