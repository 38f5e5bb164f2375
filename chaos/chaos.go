package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// ErrClosed is returned by AddLink, Apply and Run once Close has begun.
var ErrClosed = errors.New("chaos: closed")

// Timeline actions.
const (
	ActionAdded   = "added"   // a toxic was added and is in effect
	ActionRemoved = "removed" // a toxic was removed (by Remove, a schedule, HealAll or Close)
	ActionFailed  = "failed"  // adding or removing a toxic failed; see Event.Error
)

const (
	// cleanupTimeout bounds Close as a whole, whatever the caller's context.
	cleanupTimeout = 10 * time.Second
	// opTimeout bounds one add or remove made by a schedule.
	opTimeout = 5 * time.Second
	// measureTimeout bounds Close's reading of one link's traffic counters,
	// so that a wedged proxy leaves time for the deletes.
	measureTimeout = 2 * time.Second
)

// Link is one Toxiproxy proxy that collide owns: clients connect to Listen,
// the proxy forwards to Upstream, and toxics on it break the traffic.
type Link struct {
	// Name is collide's name for the link, e.g. "target" or "database".
	Name string `json:"name"`
	// Proxy is the Toxiproxy proxy name:
	// collide-<runID>-<Name>~<host>~<pid>~<start>, the run and its owner
	// process (see Owner), so that CleanLeftovers can tell a killed run's
	// proxy from a live one's.
	Proxy string `json:"proxy"`
	// Listen is the host:port the proxy listens on (a free loopback port
	// chosen by Toxiproxy); point the client of this link here.
	Listen string `json:"listen"`
	// Upstream is the host:port the proxy forwards to.
	Upstream string `json:"upstream"`
}

// Event is one change on a link, as recorded in the timeline.
type Event struct {
	// At is when the change was confirmed by the Toxiproxy API (for
	// "added": from then on the toxic is in effect).
	At time.Time `json:"at"`
	// Offset is At relative to the start of the most recent Run (or to New
	// if Run was never called), in nanoseconds in JSON.
	Offset time.Duration `json:"offset_ns"`
	// Link is collide's link name, e.g. "database".
	Link string `json:"link"`
	// Fault is the fault kind, e.g. "latency". For a toxic that HealAll found
	// but this Chaos did not record adding, it is the toxic's type.
	Fault string `json:"fault"`
	// Toxic is the Toxiproxy toxic name, unique within the Chaos.
	Toxic string `json:"toxic"`
	// Action is "added", "removed" or "failed".
	Action string `json:"action"`
	// Stream is "upstream" or "downstream".
	Stream string `json:"stream,omitempty"`
	// Toxicity is the probability (0..1) that the toxic applies to a
	// connection.
	Toxicity float64 `json:"toxicity"`
	// Attributes are the toxic's attributes in Toxiproxy units
	// (milliseconds, KB/s, bytes), e.g. {"latency": 150, "jitter": 0}.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Error says what failed, for Action "failed".
	Error string `json:"error,omitempty"`
}

// Chaos manages the links and toxics of one run on one Toxiproxy server,
// through the official Toxiproxy Go client only, so it works the same against
// the embedded server and an external toxiproxy-server. It touches only the
// proxies it created (named collide-<runID>-<link>~<owner>), never other
// proxies on the server and never /reset: teams may share a Toxiproxy server.
// CleanLeftovers is the one exception: it removes collide proxies whose
// owner process is gone.
//
// All methods are safe for concurrent use.
type Chaos struct {
	api   string
	runID string
	cl    *client.Client
	calls tracker // API requests in flight, including ones a caller gave up on

	mu        sync.Mutex
	closing   bool
	epoch     time.Time
	links     map[string]*linkState
	order     []string // link names in creation order
	seq       int      // toxic counter, for unique toxic names
	events    []Event
	schedules map[*Schedule]struct{}
	taps      map[string]*tapState // SQL taps in front of links, by link name
	traffic   []LinkTraffic        // read by Close before deleting the links
}

type linkState struct {
	Link
	proxy  *client.Proxy       // nil while the proxy is being created
	toxics map[string]*applied // toxics in effect that this Chaos added, by name
	drop   map[string]bool     // toxics whose removal is requested, not yet done
	// slot serializes changes to the proxy's toxics (see Remove).
	slot *slot
	// uncounted says why the link has no CountToxic toxics; "" if it has.
	uncounted string
}

// applied is a toxic this Chaos added and has not removed.
type applied struct {
	fault    string
	stream   string
	toxicity float64
	attrs    client.Attributes
	seq      int
}

// New returns a Chaos for the Toxiproxy API at apiURL (e.g.
// http://127.0.0.1:8474; "host:port" is taken as http). runID names this
// run's proxies: collide-<runID>-<link>~<owner>; it must be unique among the runs
// sharing the server and consist of letters, digits, '.', '_' or '-'.
// New does not contact the server; AddLink reports an unreachable API.
func New(apiURL, runID string) *Chaos {
	api := strings.TrimRight(apiURL, "/")
	if !strings.HasPrefix(api, "http://") && !strings.HasPrefix(api, "https://") {
		api = "http://" + api
	}
	cl := client.NewClient(api)
	cl.UserAgent = "collide"
	return &Chaos{
		api:       api,
		runID:     runID,
		cl:        cl,
		epoch:     time.Now(),
		links:     map[string]*linkState{},
		schedules: map[*Schedule]struct{}{},
		taps:      map[string]*tapState{},
	}
}

// APIURL is the Toxiproxy API base URL this Chaos talks to.
func (c *Chaos) APIURL() string { return c.api }

// ProxyPrefix is the prefix of every proxy name this Chaos creates:
// "collide-<runID>-" (the link name and the owner follow).
func (c *Chaos) ProxyPrefix() string { return "collide-" + c.runID + "-" }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// AddLink creates a proxy named collide-<runID>-<name>~<owner> (see
// Owner) that listens on a free
// loopback port (127.0.0.1:0) and forwards to upstream (host:port). The
// returned Link carries the real listen address, read back from the API.
func (c *Chaos) AddLink(ctx context.Context, name, upstream string) (*Link, error) {
	return c.AddLinkAt(ctx, name, "127.0.0.1:0", upstream)
}

// AddLinkAt is AddLink with the proxy's listen address chosen by the caller,
// as the Toxiproxy server sees it. AddLink listens on "127.0.0.1:0" (a free
// loopback port), right for a Toxiproxy on the same host as its clients. A
// Toxiproxy in a container needs a fixed port on every interface, e.g.
// "0.0.0.0:8666": containers on its network connect to it by name, and the
// host connects to the port Docker publishes for 8666. The returned Link's
// Listen is the address read back from the API (in the server's terms).
func (c *Chaos) AddLinkAt(ctx context.Context, name, listen, upstream string) (*Link, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("link name %q: use letters, digits, '.', '_' or '-'", name)
	}
	if !nameRE.MatchString(c.runID) {
		return nil, fmt.Errorf("run id %q: use letters, digits, '.', '_' or '-'", c.runID)
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, fmt.Errorf("link %s: listen %q: want host:port: %v", name, listen, err)
	}
	if _, _, err := net.SplitHostPort(upstream); err != nil {
		return nil, fmt.Errorf("link %s: upstream %q: want host:port: %v", name, upstream, err)
	}
	proxyName := c.ProxyPrefix() + name + Self().suffix()

	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if _, dup := c.links[name]; dup {
		c.mu.Unlock()
		return nil, fmt.Errorf("link %s: already added", name)
	}
	// Recorded before the request, so that Close deletes the proxy even if
	// this call is abandoned (ctx) after the server created it.
	ls := &linkState{
		Link:   Link{Name: name, Proxy: proxyName, Upstream: upstream},
		toxics: map[string]*applied{},
		drop:   map[string]bool{},
		slot:   &slot{ch: make(chan struct{}, 1)},
	}
	c.links[name] = ls
	c.order = append(c.order, name)
	c.calls.add()
	c.mu.Unlock()
	defer c.calls.done()

	p, err := call(ctx, &c.calls, nil, func() (*client.Proxy, error) {
		return c.cl.CreateProxy(proxyName, listen, upstream)
	})
	if err == nil {
		if _, port, perr := net.SplitHostPort(p.Listen); perr != nil || port == "0" || port == "" {
			err = fmt.Errorf("toxiproxy at %s returned listen address %q for proxy %s", c.api, p.Listen, proxyName)
		}
	}
	if err != nil {
		var apiErr *client.ApiError
		if errors.As(err, &apiErr) || errors.Is(err, syscall.ECONNREFUSED) {
			// Definitely not created by us (e.g. 409: someone else's proxy
			// has this name): forget it, so Close leaves it alone.
			c.mu.Lock()
			c.forgetLinkLocked(name)
			c.mu.Unlock()
		}
		return nil, c.wrap("create proxy "+proxyName+" listening on "+listen, err)
	}
	// Before anyone knows the listen address, so every connection is counted.
	uncounted := c.addCounters(ctx, p)

	c.mu.Lock()
	defer c.mu.Unlock()
	ls.proxy = p
	ls.uncounted = uncounted
	ls.Listen = p.Listen
	l := ls.Link
	return &l, nil
}

func (c *Chaos) forgetLinkLocked(name string) {
	delete(c.links, name)
	kept := c.order[:0]
	for _, n := range c.order {
		if n != name {
			kept = append(kept, n)
		}
	}
	c.order = kept
}

// Link returns the link called name, if it has been added.
func (c *Chaos) Link(name string) (Link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ls, ok := c.links[name]
	if !ok || ls.proxy == nil {
		return Link{}, false
	}
	return ls.Link, true
}

// Links lists the links added so far, in the order they were added.
func (c *Chaos) Links() []Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Link
	for _, n := range c.order {
		if ls := c.links[n]; ls != nil && ls.proxy != nil {
			out = append(out, ls.Link)
		}
	}
	return out
}

// Apply adds fault f as a toxic on link now, ignoring f.From and f.For (see
// Run for schedules), and returns the toxic's name for Remove. f.Link, if set,
// must equal link. The fault's kind and fields are checked first
// (profiles.Fault.Spec). Toxicity defaults to 1 and stream to downstream.
func (c *Chaos) Apply(ctx context.Context, link string, f profiles.Fault) (string, error) {
	if f.Link != "" && f.Link != link {
		return "", fmt.Errorf("fault is for link %q, not %q", f.Link, link)
	}
	kind, params, err := f.Spec()
	if err != nil {
		return "", fmt.Errorf("invalid fault: %w", err)
	}
	if kind.Wire() {
		return c.applyTap(link, f, params)
	}
	typ, attrs := kind.Toxic(params)
	stream, toxicity := f.StreamValue(), f.ToxicityValue()

	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return "", ErrClosed
	}
	ls := c.links[link]
	if ls == nil || ls.proxy == nil {
		err := c.noLinkErrLocked(link)
		c.mu.Unlock()
		return "", err
	}
	c.seq++
	seq := c.seq
	name := fmt.Sprintf("%s_%s_%d", f.Fault, stream, seq)
	p := ls.proxy
	c.calls.add()
	c.mu.Unlock()
	defer c.calls.done()

	_, err = call(ctx, &c.calls, ls.slot, func() (*client.Toxic, error) {
		return p.AddToxic(name, typ, stream, float32(toxicity), attrs)
	})

	c.mu.Lock()
	defer c.mu.Unlock()
	ev := Event{Link: link, Fault: f.Fault, Toxic: name, Stream: stream, Toxicity: toxicity, Attributes: maps.Clone(attrs)}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// Given up on, but it may still land: have the next removal
			// pass (or HealAll) delete it if it does.
			ls.drop[name] = true
		}
		err = c.wrap(fmt.Sprintf("add %s toxic %s on link %s", typ, name, link), err)
		ev.Action, ev.Error = ActionFailed, err.Error()
		c.logLocked(ev)
		return "", err
	}
	ev.Action = ActionAdded
	c.logLocked(ev)
	ls.toxics[name] = &applied{fault: f.Fault, stream: stream, toxicity: toxicity, attrs: attrs, seq: seq}
	return name, nil
}

func (c *Chaos) noLinkErrLocked(link string) error {
	var names []string
	for _, n := range c.order {
		if ls := c.links[n]; ls != nil && ls.proxy != nil {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no link %q (no links added)", link)
	}
	return fmt.Errorf("no link %q (links: %s)", link, strings.Join(names, ", "))
}

// Close stops running schedules, then reads each link's traffic counters
// (see Traffic) and deletes every proxy this Chaos created (which removes
// their toxics and closes their connections) and nothing else.
// It ignores ctx's cancellation and deadline and uses its own 10s bound, so it
// works during shutdown: up to 3s for schedules to remove their faults, up to
// 2s for requests in flight to land, up to 2s to read each link's traffic
// counters, the rest for the deletes, which run in parallel (a link's read,
// then its delete) so that one wedged proxy does not keep the others. It is
// idempotent: a second call retries only what the first could not delete.
// After Close, AddLink, Apply and Run return ErrClosed.
func (c *Chaos) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()

	c.mu.Lock()
	c.closing = true
	var scheds []*Schedule
	for s := range c.schedules {
		scheds = append(scheds, s)
	}
	c.mu.Unlock()

	for _, s := range scheds {
		s.halt()
	}
	sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
	for _, s := range scheds {
		select {
		case <-s.done:
		case <-sctx.Done():
		}
	}
	scancel()
	tapErr := c.closeTaps()
	// Let requests in flight land (including abandoned ones, e.g. a proxy
	// create whose caller gave up), so nothing is created after the deletes.
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	_ = c.calls.wait(wctx)
	wcancel()

	c.mu.Lock()
	var links []*linkState
	for _, n := range c.order {
		links = append(links, c.links[n])
	}
	c.mu.Unlock()

	errs := make([]error, len(links))
	traffic := make([]*LinkTraffic, len(links))
	var wg sync.WaitGroup
	for i, ls := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mctx, mcancel := context.WithTimeout(ctx, measureTimeout)
			lt, ok := c.measure(mctx, ls)
			mcancel()
			if ok {
				traffic[i] = &lt
			}
			errs[i] = c.deleteLink(ctx, ls)
		}()
	}
	wg.Wait()
	c.mu.Lock()
	for _, lt := range traffic {
		if lt != nil {
			c.recordTrafficLocked(*lt)
		}
	}
	c.mu.Unlock()
	return errors.Join(append(errs, tapErr)...)
}

// deleteLink deletes ls's proxy (gone already counts as deleted) and logs
// its toxics as removed.
func (c *Chaos) deleteLink(ctx context.Context, ls *linkState) error {
	p := ls.proxy
	if p == nil {
		p = c.cl.NewProxy()
		p.Name = ls.Proxy
	}
	err := callErr(ctx, &c.calls, nil, p.Delete)
	if err != nil && !isNotFound(err) {
		return c.wrap("delete proxy "+ls.Proxy, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(ls.toxics))
	for name := range ls.toxics {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return ls.toxics[names[i]].seq < ls.toxics[names[j]].seq })
	for _, name := range names {
		c.deletedLocked(ls, client.Toxic{Name: name})
	}
	c.forgetLinkLocked(ls.Name)
	return nil
}

// Timeline returns a copy of every change logged so far, in order.
func (c *Chaos) Timeline() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Event, len(c.events))
	for i, ev := range c.events {
		ev.Attributes = maps.Clone(ev.Attributes)
		out[i] = ev
	}
	return out
}

// Active lists the faults currently applied, as "link:fault" (e.g.
// "database:latency"), in the order they were applied.
func (c *Chaos) Active() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	type entry struct {
		s   string
		seq int
	}
	var all []entry
	c.activeTapsLocked(func(s string, seq int) { all = append(all, entry{s, seq}) })
	for _, ls := range c.links {
		for _, a := range ls.toxics {
			all = append(all, entry{ls.Name + ":" + a.fault, a.seq})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = e.s
	}
	return out
}

func (c *Chaos) logLocked(ev Event) {
	ev.At = time.Now()
	ev.Offset = ev.At.Sub(c.epoch)
	c.events = append(c.events, ev)
}
