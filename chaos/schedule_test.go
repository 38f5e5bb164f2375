package chaos_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/profiles"
)

const tolerance = 100 * time.Millisecond

func ms(n int) profiles.Duration { return profiles.Duration(time.Duration(n) * time.Millisecond) }

// sleepTo sleeps until start+off.
func sleepTo(start time.Time, off time.Duration) { time.Sleep(time.Until(start.Add(off))) }

func twoLinks(t *testing.T, runID string) (*chaos.Chaos, *chaos.Embedded, map[string]*chaos.Link) {
	up := upstream(t)
	e := embedded(t)
	c := newChaos(t, e.URL(), runID)
	links := map[string]*chaos.Link{}
	for _, n := range []string{"target", "database"} {
		links[n] = addLink(t, c, n, up)
	}
	return c, e, links
}

func noToxicsLeft(t *testing.T, apiURL string) {
	t.Helper()
	for name, p := range serverProxies(t, apiURL) {
		if len(p.ActiveToxics) != 0 {
			t.Errorf("proxy %s still has toxics %+v", name, p.ActiveToxics)
		}
	}
}

// TestScheduleOffsets: faults are added and removed at their from/for
// offsets, within ±100ms; a fault with for 0 stays until the attack ends; a
// fault starting after the attack never comes.
func TestScheduleOffsets(t *testing.T) {
	c, e, links := twoLinks(t, "sched")
	faults := []profiles.Fault{
		{Link: "target", Fault: "latency", Latency: ms(50), From: 0, For: ms(300)},
		{Link: "database", Fault: "latency", Latency: ms(20), From: ms(200), For: ms(400)},
		{Link: "target", Fault: "bandwidth", Rate: 1000, From: ms(400)},
		{Link: "database", Fault: "slow_close", Delay: ms(10), From: ms(1200)},
	}
	s, err := c.Run(context.Background(), faults, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := s.Start()

	// Live state, sampled mid-window.
	sleepTo(start, 100*time.Millisecond)
	a100 := c.Active()
	if d := mustGet(t, links["target"].Listen, "/"); d < 50*time.Millisecond {
		t.Errorf("at ~100ms a request took %v, want ≥ 50ms latency", d)
	}
	sleepTo(start, 450*time.Millisecond)
	a450 := c.Active()
	sleepTo(start, 800*time.Millisecond)
	a800 := c.Active()
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	ended := time.Since(start)
	for _, chk := range []struct {
		at   string
		got  []string
		want string
	}{
		{"100ms", a100, "target:latency"},
		{"450ms", a450, "database:latency target:bandwidth"},
		{"800ms", a800, "target:bandwidth"},
	} {
		if strings.Join(chk.got, " ") != chk.want {
			t.Errorf("Active() at %s = %v, want %s", chk.at, chk.got, chk.want)
		}
	}

	want := []struct {
		action, link, fault string
		off                 time.Duration
	}{
		{"added", "target", "latency", 0},
		{"added", "database", "latency", 200 * time.Millisecond},
		{"removed", "target", "latency", 300 * time.Millisecond},
		{"added", "target", "bandwidth", 400 * time.Millisecond},
		{"removed", "database", "latency", 600 * time.Millisecond},
		{"removed", "target", "bandwidth", time.Second},
	}
	tl := c.Timeline()
	if len(tl) != len(want) {
		t.Fatalf("timeline has %d events, want %d: %+v", len(tl), len(want), tl)
	}
	var worst time.Duration
	for i, w := range want {
		ev := tl[i]
		diff := ev.Offset - w.off
		if diff < 0 {
			diff = -diff
		}
		worst = max(worst, diff)
		if ev.Action != w.action || ev.Link != w.link || ev.Fault != w.fault || diff > tolerance {
			t.Errorf("event %d = %s %s:%s at %v, want %s %s:%s at %v ±%v",
				i, ev.Action, ev.Link, ev.Fault, ev.Offset, w.action, w.link, w.fault, w.off, tolerance)
		}
		if !ev.At.Equal(start.Add(ev.Offset)) {
			t.Errorf("event %d: At %v ≠ start + offset %v", i, ev.At, ev.Offset)
		}
		t.Logf("%-7s %-8s %-9s want +%-6v got +%-12v error %v", ev.Action, ev.Link, ev.Fault, w.off, ev.Offset, ev.Offset-w.off)
	}
	t.Logf("worst offset error %v; schedule ended after %v", worst, ended)
	if ended > time.Second+tolerance {
		t.Errorf("Wait returned after %v, want ~1s", ended)
	}
	noToxicsLeft(t, e.URL())
	if err := c.HealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Timeline()); n != len(want) {
		t.Errorf("HealAll logged again what the schedule removed: %d events", n)
	}
	if a := c.Active(); len(a) != 0 {
		t.Errorf("Active() after the schedule = %v", a)
	}
}

// rejected is a fault kind whose toxic Toxiproxy refuses (unknown toxic type):
// the schedule must surface the server's refusal.
type rejected struct{}

func (rejected) Name() string                  { return "test_rejected" }
func (rejected) Validate(profiles.Fault) error { return nil }
func (rejected) Toxic(profiles.Fault) (string, client.Attributes) {
	return "no_such_toxic", client.Attributes{"latency": -5}
}

// TestScheduleFirstErrorSurfaces: the first failing apply ends the schedule
// and is delivered promptly on Err, as a *FaultError.
func TestScheduleFirstErrorSurfaces(t *testing.T) {
	t.Run("server refuses the toxic", func(t *testing.T) {
		defer chaos.RegisterForTest(rejected{})()
		c, e, _ := twoLinks(t, "reject")
		faults := []profiles.Fault{
			{Link: "target", Fault: "latency", Latency: ms(10)},
			{Link: "database", Fault: "test_rejected", From: ms(200)},
			{Link: "database", Fault: "latency", Latency: ms(10), From: ms(500)},
		}
		s, err := c.Run(context.Background(), faults, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var got error
		select {
		case got = <-s.Err():
		case <-time.After(3 * time.Second):
			t.Fatal("no error from the schedule")
		}
		after := time.Since(s.Start())
		t.Logf("error after %v: %v", after, got)
		var fe *chaos.FaultError
		if !errors.As(got, &fe) || fe.Index != 1 || fe.Op != "apply" {
			t.Fatalf("err = %#v, want a *FaultError for fault 1, apply", got)
		}
		for _, part := range []string{"chaos[1]", "HTTP 400", "invalid toxic type", e.URL()} {
			if !strings.Contains(got.Error(), part) {
				t.Errorf("error %q lacks %q", got, part)
			}
		}
		if after < 200*time.Millisecond || after > 200*time.Millisecond+tolerance {
			t.Errorf("error came after %v, want at ~200ms", after)
		}
		if err := s.Wait(); err != got {
			t.Errorf("Wait() = %v, want the same error", err)
		}
		if time.Since(s.Start()) > 500*time.Millisecond {
			t.Errorf("the schedule did not end promptly after the error")
		}
		tl := c.Timeline()
		var actions []string
		for _, ev := range tl {
			actions = append(actions, ev.Action+" "+ev.Link+":"+ev.Fault)
		}
		if strings.Join(actions, ", ") != "added target:latency, failed database:test_rejected, removed target:latency" {
			t.Errorf("timeline = %v", actions)
		}
		if tl[1].Error == "" {
			t.Error("failed event has no error text")
		}
		noToxicsLeft(t, e.URL())
	})

	t.Run("proxy deleted behind our back", func(t *testing.T) {
		c, e, links := twoLinks(t, "gone")
		p := serverProxies(t, e.URL())[links["target"].Proxy]
		s, err := c.Run(context.Background(), []profiles.Fault{
			{Link: "target", Fault: "reset_peer", From: ms(100)},
		}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Delete(); err != nil {
			t.Fatal(err)
		}
		err = s.Wait()
		if err == nil || !strings.Contains(err.Error(), "HTTP 404") || !strings.Contains(err.Error(), "proxy not found") {
			t.Fatalf("err = %v, want HTTP 404 proxy not found", err)
		}
		t.Log(err)
	})

	t.Run("checked before starting", func(t *testing.T) {
		c, _, _ := twoLinks(t, "pre")
		for _, tc := range []struct {
			f    profiles.Fault
			want string
		}{
			{profiles.Fault{Link: "target", Fault: "latency"}, "chaos[0].latency: must be > 0"},
			{profiles.Fault{Link: "queue", Fault: "latency", Latency: ms(1)}, "chaos[0].link: must be target or database"},
			{profiles.Fault{Link: "target", Fault: "bogus"}, `chaos[0].fault: unknown fault "bogus"`},
		} {
			if _, err := c.Run(context.Background(), []profiles.Fault{tc.f}, time.Second); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run(%+v) = %v, want %q", tc.f, err, tc.want)
			}
		}
		c2 := newChaos(t, embedded(t).URL(), "nolinks")
		_, err := c2.Run(context.Background(), []profiles.Fault{{Link: "database", Fault: "reset_peer"}}, time.Second)
		if err == nil || !strings.Contains(err.Error(), `no link "database"`) {
			t.Errorf("Run on a missing link = %v", err)
		}
		if len(c.Timeline()) != 0 {
			t.Error("a refused Run changed something")
		}
	})
}

// TestScheduleStopAndClose: Stop ends the schedule early, removing its
// faults and never adding pending ones; Close stops a running schedule.
func TestScheduleStopAndClose(t *testing.T) {
	c, e, _ := twoLinks(t, "stop")
	faults := []profiles.Fault{
		{Link: "target", Fault: "latency", Latency: ms(10)},
		{Link: "database", Fault: "timeout", From: ms(50), For: ms(5000)},
		{Link: "database", Fault: "latency", Latency: ms(10), From: ms(2000)},
	}
	s, err := c.Run(context.Background(), faults, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if a := c.Active(); len(a) != 2 {
		t.Fatalf("Active() = %v", a)
	}
	stopAt := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(stopAt))
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if a := c.Active(); len(a) != 0 {
		t.Errorf("Active() after Stop = %v", a)
	}
	if n := len(c.Timeline()); n != 4 {
		t.Errorf("timeline has %d events, want 4: %+v", n, c.Timeline())
	}
	noToxicsLeft(t, e.URL())

	// Cancelling Run's context ends a schedule too, and is not an error.
	ctx, cancel := context.WithCancel(context.Background())
	s2, err := c.Run(ctx, faults[:1], 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := s2.Wait(); err != nil {
		t.Errorf("Wait after cancel = %v", err)
	}
	noToxicsLeft(t, e.URL())

	// Close halts a running schedule and removes everything.
	s3, err := c.Run(context.Background(), faults, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s3.Wait(); err != nil {
		t.Errorf("schedule stopped by Close: %v", err)
	}
	if n := len(serverProxies(t, e.URL())); n != 0 {
		t.Errorf("%d proxies left after Close", n)
	}
	if _, err := c.Run(context.Background(), faults, 0); !errors.Is(err, chaos.ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
}

// TestScheduleUnderLoad runs a busy random schedule, with overlapping
// windows on both streams of both links (so older toxics are removed from
// under newer ones), while traffic flows through both links and other
// goroutines read Timeline and Active; run it with -race. Every fault inside
// the attack is added once and removed once, and nothing is left.
//
// It uses the kinds that do not kill connections. Toxiproxy 2.12 can deadlock
// a proxy for good when its toxics change while a connection through it dies
// with data in flight (https://github.com/Shopify/toxiproxy/issues/558); with
// reset_peer, timeout and limit_data cutting connections under this churn it
// did so in about one run in fifteen. Those kinds are covered with real
// traffic, one change at a time, by the other tests.
func TestScheduleUnderLoad(t *testing.T) {
	c, e, links := twoLinks(t, "load")
	rng := rand.New(rand.NewSource(42))
	const attack = 1500 * time.Millisecond
	var faults []profiles.Fault
	for i := range 16 {
		f := profiles.Fault{Link: []string{"target", "database"}[i%2], From: ms(rng.Intn(1400))}
		if rng.Intn(3) > 0 {
			f.For = ms(50 + rng.Intn(600))
		}
		switch rng.Intn(3) {
		case 0:
			f.Fault, f.Latency, f.Jitter = "latency", ms(5+rng.Intn(20)), ms(rng.Intn(5))
		case 1:
			f.Fault, f.Rate = "bandwidth", int64(500+rng.Intn(1000))
		case 2:
			f.Fault, f.Delay = "slow_close", ms(1+rng.Intn(20))
		}
		if rng.Intn(2) == 0 {
			f.Stream = "upstream"
		}
		faults = append(faults, f)
	}

	ctx := context.Background()
	s, err := c.Run(ctx, faults, attack)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var requests, failures, reads atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := links[[]string{"target", "database"}[w%2]].Listen
			for {
				select {
				case <-s.Done():
					return
				default:
				}
				if _, err := get(addr, "/", 2*time.Second); err != nil {
					failures.Add(1)
				}
				requests.Add(1)
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-s.Done():
					return
				default:
				}
				if _, err := json.Marshal(c.Timeline()); err != nil {
					t.Error(err)
					return
				}
				_ = c.Active()
				reads.Add(1)
				time.Sleep(time.Millisecond)
			}
		}()
	}
	err = s.Wait()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.HealAll(ctx); err != nil {
		t.Fatal(err)
	}

	adds, removes := map[string]int{}, map[string]int{}
	for _, ev := range c.Timeline() {
		switch ev.Action {
		case chaos.ActionAdded:
			adds[ev.Toxic]++
		case chaos.ActionRemoved:
			removes[ev.Toxic]++
		default:
			t.Errorf("unexpected event %+v", ev)
		}
	}
	inside := 0
	for _, f := range faults {
		if f.From.D() < attack {
			inside++
		}
	}
	if len(adds) != inside {
		t.Errorf("%d toxics added, want %d", len(adds), inside)
	}
	for toxic, n := range adds {
		if n != 1 || removes[toxic] != 1 {
			t.Errorf("toxic %s added %d×, removed %d×", toxic, n, removes[toxic])
		}
	}
	// Lag: how long after its from each add took effect. Under this load
	// Toxiproxy itself is the bottleneck: an add waits for the proxy's lock
	// and for every connection's toxic chain to take the change.
	var lags []time.Duration
	for _, ev := range c.Timeline() {
		if ev.Action != chaos.ActionAdded {
			continue
		}
		best := time.Hour
		for _, f := range faults {
			if f.Link == ev.Link && f.Fault == ev.Fault {
				if d := ev.Offset - f.From.D(); d >= 0 && d < best {
					best = d
				}
			}
		}
		lags = append(lags, best)
	}
	slices.Sort(lags)
	worst := lags[len(lags)-1]
	t.Logf("%d faults (%d inside the attack), %d requests (%d failed), %d timeline reads; add lag p50 %v, p90 %v, max %v",
		len(faults), inside, requests.Load(), failures.Load(), reads.Load(),
		lags[len(lags)/2], lags[len(lags)*9/10], worst)
	if worst > 2*time.Second {
		t.Errorf("an add lagged its from by %v", worst)
	}
	if requests.Load() < 50 {
		t.Errorf("only %d requests: not much load", requests.Load())
	}
	if a := c.Active(); len(a) != 0 {
		t.Errorf("Active() = %v", a)
	}
	noToxicsLeft(t, e.URL())
}
