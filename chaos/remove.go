package chaos

import (
	"context"
	"errors"
	"fmt"
	"maps"

	client "github.com/Shopify/toxiproxy/v2/client"
)

// Remove deletes toxic (a name returned by Apply) from link and logs it as
// "removed". A toxic that is already gone from the server counts as removed.
//
// Toxics are only ever deleted newest first within a stream. To delete an
// older toxic, the newer ones of its stream are deleted too and then re-added,
// same names and settings, in their order: a gap of a few milliseconds in
// those faults (and for a lifted timeout toxic its held connections are
// closed, for limit_data its byte counts restart). Removals requested at the
// same time are done in one pass, lifting each toxic at most once. The reason
// is a Toxiproxy 2.12 bug: deleting a toxic other than the newest of its
// stream while a connection through it closes (or deleting a timeout toxic,
// which closes its connections) leaves that connection's toxic chain out of
// step, and a later add on the proxy can then panic the server (index out of
// range, or limit_data without its state) — with the embedded server, the
// whole process. Disabling the toxic instead (toxicity 0) is a data race
// inside Toxiproxy.
func (c *Chaos) Remove(ctx context.Context, link, toxic string) error {
	if c.removeTap(link, toxic) {
		return nil
	}
	c.mu.Lock()
	ls := c.links[link]
	if ls == nil || ls.proxy == nil {
		var err error
		if !c.closing { // after Close, everything is removed already
			err = c.noLinkErrLocked(link)
		}
		c.mu.Unlock()
		return err
	}
	ls.drop[toxic] = true
	c.calls.add()
	c.mu.Unlock()
	defer c.calls.done()

	err := callErr(ctx, &c.calls, ls.slot, func() error { return c.reconcile(ls, false) })

	c.mu.Lock()
	defer c.mu.Unlock()
	if !ls.drop[toxic] {
		return err // removed (by this call or by a concurrent one); err is about others
	}
	if err != nil {
		err = c.wrap(fmt.Sprintf("remove toxic %s from link %s", toxic, link), err)
	} else { // defensive: the pass never got to it
		err = fmt.Errorf("remove toxic %s from link %s via toxiproxy at %s: not done", toxic, link, c.api)
	}
	ev := Event{Link: link, Toxic: toxic, Action: ActionFailed, Error: err.Error()}
	if a := ls.toxics[toxic]; a != nil {
		ev.Fault, ev.Stream, ev.Toxicity, ev.Attributes = a.fault, a.stream, a.toxicity, maps.Clone(a.attrs)
	}
	c.logLocked(ev)
	return err
}

// HealAll deletes every toxic found on the server on every link this Chaos
// created, including ones whose Apply was abandoned by its context, and logs
// each as removed. The links stay, so traffic (e.g. the harness's final
// checks) still flows through them. Stop running schedules first, or they may
// add toxics again. Toxics are deleted newest first (see Remove).
func (c *Chaos) HealAll(ctx context.Context) error {
	c.healTaps()
	c.mu.Lock()
	var links []*linkState
	for _, n := range c.order {
		if ls := c.links[n]; ls != nil && ls.proxy != nil {
			links = append(links, ls)
		}
	}
	c.calls.add()
	c.mu.Unlock()
	defer c.calls.done()

	var errs []error
	for _, ls := range links {
		if err := callErr(ctx, &c.calls, ls.slot, func() error { return c.reconcile(ls, true) }); err != nil {
			errs = append(errs, c.wrap("heal link "+ls.Name, err))
		}
	}
	return errors.Join(errs...)
}

// reconcile deletes the toxics of ls marked in ls.drop (all of them if all),
// newest first in each stream: from the oldest toxic to drop up, every toxic
// is deleted, and those not to drop are re-added in their order. Each deletion
// is logged when it happens. It runs holding ls.slot, so the chains do not
// change meanwhile (unless another client changes this run's proxies, which
// nobody should).
func (c *Chaos) reconcile(ls *linkState, all bool) error {
	p := ls.proxy
	list, err := p.Toxics()
	if err != nil {
		return err
	}
	c.mu.Lock()
	drop := maps.Clone(ls.drop)
	onServer := map[string]bool{}
	for _, t := range list {
		onServer[t.Name] = true
		if all && t.Type != CountToxic { // the counters stay: they are not faults
			drop[t.Name] = true
		}
	}
	for name := range drop { // gone already: removed, as far as anyone can tell
		if !onServer[name] {
			c.deletedLocked(ls, client.Toxic{Name: name})
		}
	}
	if all { // and forget records of toxics someone else deleted
		for name := range ls.toxics {
			if !onServer[name] {
				delete(ls.toxics, name)
			}
		}
	}
	c.mu.Unlock()

	var errs []error
	for _, stream := range []string{Upstream, Downstream} {
		var chain []client.Toxic // oldest first, as Toxiproxy lists a stream
		for _, t := range list {
			if t.Stream == stream {
				chain = append(chain, t)
			}
		}
		k := -1
		for i, t := range chain {
			if drop[t.Name] {
				k = i
				break
			}
		}
		if k < 0 {
			continue
		}
		var lifted []client.Toxic // deleted but to keep: re-added below
		for i := len(chain) - 1; i >= k; i-- {
			t := chain[i]
			if err := p.RemoveToxic(t.Name); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("delete toxic %s: %w", t.Name, err))
				break // only ever delete the newest
			}
			if drop[t.Name] {
				c.mu.Lock()
				c.deletedLocked(ls, t)
				c.mu.Unlock()
			} else {
				lifted = append(lifted, t)
			}
		}
		for i := len(lifted) - 1; i >= 0; i-- { // oldest first, as they were
			t := lifted[i]
			if _, err := p.AddToxic(t.Name, t.Type, t.Stream, t.Toxicity, t.Attributes); err != nil {
				err = fmt.Errorf("re-add toxic %s after deleting an older one: %w", t.Name, err)
				errs = append(errs, err)
				c.mu.Lock()
				c.lostLocked(ls, t, err)
				c.mu.Unlock()
			}
		}
	}
	return errors.Join(errs...)
}

// deletedLocked records that toxic t is gone from ls: logged as removed if it
// was in effect (tracked, or found on the server without a record).
func (c *Chaos) deletedLocked(ls *linkState, t client.Toxic) {
	delete(ls.drop, t.Name)
	if a := ls.toxics[t.Name]; a != nil {
		delete(ls.toxics, t.Name)
		c.logLocked(Event{Link: ls.Name, Fault: a.fault, Toxic: t.Name, Action: ActionRemoved,
			Stream: a.stream, Toxicity: a.toxicity, Attributes: maps.Clone(a.attrs)})
		return
	}
	if t.Type != "" { // on the server, not in the record: e.g. an abandoned Apply
		c.logLocked(Event{Link: ls.Name, Fault: t.Type, Toxic: t.Name, Action: ActionRemoved,
			Stream: t.Stream, Toxicity: float64(t.Toxicity), Attributes: maps.Clone(t.Attributes)})
	}
}

// lostLocked records that toxic t, meant to stay, could not be re-added.
func (c *Chaos) lostLocked(ls *linkState, t client.Toxic, err error) {
	ev := Event{Link: ls.Name, Fault: t.Type, Toxic: t.Name, Action: ActionFailed,
		Stream: t.Stream, Toxicity: float64(t.Toxicity), Attributes: maps.Clone(t.Attributes), Error: err.Error()}
	if a := ls.toxics[t.Name]; a != nil {
		ev.Fault = a.fault
		delete(ls.toxics, t.Name)
	}
	c.logLocked(ev)
}
