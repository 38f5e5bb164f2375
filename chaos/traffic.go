package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	client "github.com/Shopify/toxiproxy/v2/client"
	"github.com/Shopify/toxiproxy/v2/toxics"
)

// CountToxic is the type of the toxic that counts a link's traffic. AddLink
// puts one on each stream of every link, first in the chain, before any
// connection: it passes every byte through unchanged and counts it. The type
// is registered in this process's Toxiproxy toxic registry, so only the
// embedded server (StartEmbedded) has it; an external toxiproxy-server or a
// Toxiproxy container refuses it, and the link's traffic is then reported as
// not measured (Traffic), never as zero.
//
// Toxiproxy 2.12's own byte counters (the -proxy-metrics Prometheus
// collectors) are not used: they count a connection's bytes only when it
// closes, so pooled and keep-alive connections, open until the links are
// deleted, would read zero; and they count no connections.
const CountToxic = "collide_count"

func init() { toxics.Register(CountToxic, new(countToxic)) }

// countToxic passes chunks through unchanged, counting them. One instance
// serves every connection of its stream: Bytes is the total of all of them,
// Connections the number of connections opened (Toxiproxy creates one state
// per connection and stream for a stateful toxic).
type countToxic struct {
	Bytes       counter `json:"bytes"`
	Connections counter `json:"connections"`
}

// counter is an int64 updated by traffic and read by the API concurrently.
// It encodes as a JSON number; decoding ignores the input (counts cannot be
// set through the API).
type counter struct{ n atomic.Int64 }

func (c *counter) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, c.n.Load(), 10), nil }
func (c *counter) UnmarshalJSON([]byte) error   { return nil }

// Pipe forwards every chunk, counting its bytes, like Toxiproxy's noop toxic.
func (t *countToxic) Pipe(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			t.Bytes.n.Add(int64(len(c.Data)))
			stub.Output <- c
		}
	}
}

// NewState counts a connection: Toxiproxy calls it once per connection when
// the connection's chain is built.
func (t *countToxic) NewState() any {
	t.Connections.n.Add(1)
	return nil
}

// LinkTraffic is the traffic that crossed one link during the run, as counted
// by the CountToxic toxics, read just before the link was deleted (Close).
// The byte and connection counts are absent (null) when they were not
// measured; Unmeasured then says why. They are never zero for "unknown".
type LinkTraffic struct {
	// Link is collide's link name: "target" or "database".
	Link string `json:"link"`
	// Listen is the proxy's listen address; Upstream is where it forwards.
	Listen   string `json:"listen"`
	Upstream string `json:"upstream"`
	// BytesUp is the number of bytes the clients sent into the link
	// (client → upstream), counted as they entered it, before any fault.
	BytesUp *int64 `json:"bytes_up,omitempty"`
	// BytesDown is the number of bytes the upstream sent into the link
	// (upstream → client), counted as they entered it, before any fault.
	BytesDown *int64 `json:"bytes_down,omitempty"`
	// Connections is the number of connections the proxy accepted and
	// connected to the upstream.
	Connections *int64 `json:"connections,omitempty"`
	// Unmeasured says why the counts are absent; empty when measured.
	Unmeasured string `json:"unmeasured,omitempty"`
}

// Measured reports whether the counts are known.
func (t LinkTraffic) Measured() bool { return t.Unmeasured == "" }

// Traffic lists what crossed each link, as read just before Close deleted it,
// in the order the links were added. Links not yet deleted are not listed.
func (c *Chaos) Traffic() []LinkTraffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]LinkTraffic(nil), c.traffic...)
}

// addCounters puts a CountToxic on each stream of ls's new proxy p. It
// returns why the link's traffic will not be measured, or "".
func (c *Chaos) addCounters(ctx context.Context, p *client.Proxy) string {
	for _, stream := range []string{Upstream, Downstream} {
		_, err := call(ctx, &c.calls, nil, func() (*client.Toxic, error) {
			return p.AddToxic(CountToxic+"_"+stream, CountToxic, stream, 1, client.Attributes{})
		})
		if err != nil {
			var apiErr *client.ApiError
			if errors.As(err, &apiErr) && apiErr.Status == 400 {
				return fmt.Sprintf("toxiproxy at %s has no %s toxic (only collide's embedded server counts traffic)", c.api, CountToxic)
			}
			return c.wrap("add "+CountToxic+" toxic to proxy "+p.Name, err).Error()
		}
	}
	return ""
}

// measure reads ls's counters from the server; false if its proxy was never
// created.
func (c *Chaos) measure(ctx context.Context, ls *linkState) (LinkTraffic, bool) {
	c.mu.Lock()
	lt := LinkTraffic{Link: ls.Name, Listen: ls.Listen, Upstream: ls.Upstream, Unmeasured: ls.uncounted}
	p := ls.proxy
	c.mu.Unlock()
	if p == nil {
		return lt, false
	}
	if lt.Unmeasured != "" {
		return lt, true
	}
	list, err := call(ctx, &c.calls, nil, p.Toxics)
	if err != nil {
		lt.Unmeasured = c.wrap("read the "+CountToxic+" toxics of proxy "+p.Name, err).Error()
		return lt, true
	}
	var up, down, conns *int64
	for _, t := range list {
		if t.Type != CountToxic {
			continue
		}
		b, okB := t.Attributes["bytes"].(float64)
		n, okN := t.Attributes["connections"].(float64)
		if !okB || !okN {
			continue
		}
		bytes, cn := int64(b), int64(n)
		switch t.Stream {
		case Upstream:
			up, conns = &bytes, &cn
		case Downstream:
			down = &bytes
		}
	}
	if up == nil || down == nil {
		lt.Unmeasured = fmt.Sprintf("the %s toxics of proxy %s are gone", CountToxic, p.Name)
		return lt, true
	}
	lt.BytesUp, lt.BytesDown, lt.Connections = up, down, conns
	return lt, true
}

// recordTrafficLocked keeps lt, replacing an earlier reading of its link.
func (c *Chaos) recordTrafficLocked(lt LinkTraffic) {
	for i := range c.traffic {
		if c.traffic[i].Link == lt.Link {
			c.traffic[i] = lt
			return
		}
	}
	c.traffic = append(c.traffic, lt)
}
