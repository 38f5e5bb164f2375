package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/profiles"
)

// ActionCut is the timeline action of a statement-boundary fault firing: the
// SQL tap closed one of the service's database connections.
const ActionCut = "cut"

// tapState is the SQL wire-protocol tap in front of one link's proxy, and the
// tap faults (fault.WireParams) in effect on it.
type tapState struct {
	t *tap.Tap
	// armed are the faults in effect, oldest first; the newest is the Cut
	// the tap injects.
	armed []*armedFault
}

type armedFault struct {
	name  string // its toxic-like name in the timeline, unique in the Chaos
	seq   int    // its order among the faults applied (Active)
	fault string
	attrs map[string]any
	cut   *tap.Cut
}

// StartTap puts collide's SQL wire-protocol tap (package chaos/tap) in
// front of link's proxy, so that the link becomes client → tap → Toxiproxy →
// upstream: the Toxiproxy toxics still apply, and the tap faults
// (fault.WireParams, e.g. cut_after_statement) that Apply and Run put on
// link are injected by the tap. Each firing is logged in the timeline
// (ActionCut) when it happens. The client must connect to the returned
// tap's Addr, without TLS. Close stops the tap.
func (c *Chaos) StartTap(ctx context.Context, link string, protocol tap.Protocol) (*tap.Tap, error) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	ls := c.links[link]
	if ls == nil || ls.proxy == nil {
		err := c.noLinkErrLocked(link)
		c.mu.Unlock()
		return nil, err
	}
	if c.taps[link] != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("link %s: tap already started", link)
	}
	ts := &tapState{}
	c.taps[link] = ts
	listen := ls.Listen
	c.mu.Unlock()

	t, err := tap.Start(context.WithoutCancel(ctx), tap.Config{Name: link, Upstream: listen, Protocol: protocol, Armable: true,
		OnEvent: func(e tap.Event) {
			if e.Kind == tap.EventCut {
				c.cutLogged(link, e)
			}
		}})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.taps, link)
		return nil, fmt.Errorf("link %s: %w", link, err)
	}
	ts.t = t
	return t, nil
}

// cutLogged logs a tap's cut in the timeline, under the fault in effect.
func (c *Chaos) cutLogged(link string, e tap.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := Event{Link: link, Action: ActionCut, Toxicity: 1, Attributes: map[string]any{"connection": e.ConnID, "statement": e.Detail}}
	if ts := c.taps[link]; ts != nil && len(ts.armed) > 0 {
		a := ts.armed[len(ts.armed)-1]
		ev.Fault, ev.Toxic = a.fault, a.name
	}
	c.logLocked(ev)
	ev = c.events[len(c.events)-1]
	ev.At = e.Time // when the tap cut, not when the log took it
	ev.Offset = ev.At.Sub(c.epoch)
	c.events[len(c.events)-1] = ev
}

// tapCut is the tap.Cut of a tap fault's params.
func tapCut(p fault.Params) (*tap.Cut, error) {
	switch f := p.(type) {
	case fault.CutAfterStatement:
		re, err := f.Regexp()
		if err != nil {
			return nil, err
		}
		scope := tap.PerConn
		if f.Scope == fault.ScopeTransaction {
			scope = tap.PerTxn
		}
		return &tap.Cut{After: f.After, Match: re, Scope: scope, Every: f.Every}, nil
	}
	return nil, fmt.Errorf("no tap fault for %T", p)
}

// applyTap arms a tap fault on link's tap and logs it as added.
func (c *Chaos) applyTap(link string, f profiles.Fault, params fault.Params) (string, error) {
	cut, err := tapCut(params)
	if err != nil {
		return "", fmt.Errorf("invalid fault: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return "", ErrClosed
	}
	ts := c.taps[link]
	if ts == nil || ts.t == nil {
		return "", fmt.Errorf("fault %s on link %s: no SQL tap on the link (StartTap)", f.Fault, link)
	}
	c.seq++
	a := &armedFault{name: fmt.Sprintf("%s_%d", f.Fault, c.seq), seq: c.seq, fault: f.Fault, attrs: params.Attributes(), cut: cut}
	ev := Event{Link: link, Fault: f.Fault, Toxic: a.name, Toxicity: 1, Attributes: maps.Clone(a.attrs)}
	if err := ts.t.Arm(cut); err != nil {
		ev.Action, ev.Error = ActionFailed, err.Error()
		c.logLocked(ev)
		return "", err
	}
	ts.armed = append(ts.armed, a)
	ev.Action = ActionAdded
	c.logLocked(ev)
	return a.name, nil
}

// removeTapLocked disarms the tap fault called name on ts (the previous one
// still in effect, if any, is armed again) and logs it as removed; false if
// ts has no such fault.
func (c *Chaos) removeTapLocked(link string, ts *tapState, name string) bool {
	for i, a := range ts.armed {
		if a.name != name {
			continue
		}
		ts.armed = append(ts.armed[:i], ts.armed[i+1:]...)
		var next *tap.Cut
		if n := len(ts.armed); n > 0 {
			next = ts.armed[n-1].cut
		}
		_ = ts.t.Arm(next) // checked when first armed
		c.logLocked(Event{Link: link, Fault: a.fault, Toxic: a.name, Action: ActionRemoved, Toxicity: 1, Attributes: maps.Clone(a.attrs)})
		return true
	}
	return false
}

// removeTap removes tap fault name from link, if it is one.
func (c *Chaos) removeTap(link, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := c.taps[link]
	return ts != nil && ts.t != nil && c.removeTapLocked(link, ts, name)
}

// healTaps removes every tap fault.
func (c *Chaos) healTaps() {
	c.mu.Lock()
	defer c.mu.Unlock()
	links := make([]string, 0, len(c.taps))
	for l := range c.taps {
		links = append(links, l)
	}
	sort.Strings(links)
	for _, l := range links {
		ts := c.taps[l]
		for ts.t != nil && len(ts.armed) > 0 {
			c.removeTapLocked(l, ts, ts.armed[len(ts.armed)-1].name)
		}
	}
}

// closeTaps removes every tap fault and stops the taps (outside c.mu: a
// closing connection may log an event).
func (c *Chaos) closeTaps() error {
	c.healTaps()
	c.mu.Lock()
	var ts []*tap.Tap
	for l, s := range c.taps {
		if s.t != nil {
			ts = append(ts, s.t)
		}
		delete(c.taps, l)
	}
	c.mu.Unlock()
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.Close())
	}
	return errors.Join(errs...)
}

// activeTapsLocked lists the tap faults in effect as "link:fault" with
// their order numbers.
func (c *Chaos) activeTapsLocked(add func(s string, seq int)) {
	for l, ts := range c.taps {
		for _, a := range ts.armed {
			add(l+":"+a.fault, a.seq)
		}
	}
}
