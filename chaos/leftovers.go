package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"

	client "github.com/Shopify/toxiproxy/v2/client"
)

// CleanOptions says which leftovers CleanLeftovers removes.
type CleanOptions struct {
	// DryRun lists the leftovers without removing them.
	DryRun bool
	// Force also removes collide proxies whose owner cannot be checked: those
	// of another host, and those named before proxies carried an owner. A
	// proxy of a live process of this host is never removed.
	Force bool
}

// Leftover is a collide proxy on the Toxiproxy server whose owner is gone.
type Leftover struct {
	// Proxy is the proxy's full name.
	Proxy string
	// Owner is the process that created it (zero when the name has none).
	Owner Owner
	// Why says why it is a leftover, e.g. "pid 4242 is not running".
	Why string
	// Removed is false for a dry run, or when the removal failed (Error).
	Removed bool
	// Error is why the removal failed.
	Error string
}

// String is the one line a run or `collide clean` prints for the leftover.
func (l Leftover) String() string {
	switch {
	case l.Error != "":
		return fmt.Sprintf("could not remove leftover proxy %s (%s): %s", l.Proxy, l.Why, l.Error)
	case l.Removed:
		return fmt.Sprintf("removed leftover proxy %s (%s)", l.Proxy, l.Why)
	default:
		return fmt.Sprintf("would remove leftover proxy %s (%s)", l.Proxy, l.Why)
	}
}

// CleanLeftovers removes, from the Toxiproxy server, the collide proxies
// (named collide-…) whose owner is gone: a process of this host that is not
// running, or whose PID now belongs to a process started at another time.
// Deleting a proxy removes its toxics and frees its port. Proxies of live
// processes — this one's included, and so every proxy of a run in progress
// — are never touched; another host's, and owner-less ones, only with
// Force. It returns the leftovers in name order, removed unless DryRun; an
// error means the server could not be listed, or some removal failed (the
// Leftover says which).
func (c *Chaos) CleanLeftovers(ctx context.Context, o CleanOptions) ([]Leftover, error) {
	proxies, err := call(ctx, &c.calls, nil, func() (map[string]*client.Proxy, error) {
		return c.cl.Proxies()
	})
	if err != nil {
		return nil, c.wrap("list proxies", err)
	}
	var out []Leftover
	for name, p := range proxies {
		if !strings.HasPrefix(name, "collide-") {
			continue
		}
		l, ok := leftover(name, o.Force)
		if !ok {
			continue
		}
		if !o.DryRun {
			_, err := call(ctx, &c.calls, nil, func() (struct{}, error) { return struct{}{}, p.Delete() })
			switch {
			case err == nil || isNotFound(err):
				l.Removed = true
			default:
				l.Error = c.wrap("delete proxy "+name, err).Error()
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Proxy < out[j].Proxy })
	var failed int
	for _, l := range out {
		if l.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return out, fmt.Errorf("chaos: %d of %d leftover proxies could not be removed", failed, len(out))
	}
	return out, nil
}

// leftover decides whether the collide proxy called name is a leftover.
func leftover(name string, force bool) (Leftover, bool) {
	_, owner, ok := proxyOwner(name)
	if !ok {
		return Leftover{Proxy: name, Why: "no owner in its name; removed because forced"}, force
	}
	l := Leftover{Proxy: name, Owner: owner}
	gone, otherHost := owner.Gone()
	switch {
	case otherHost:
		l.Why = fmt.Sprintf("owner %s is on another host; removed because forced", owner)
		return l, force
	case gone && !pidAlive(owner.PID):
		l.Why = fmt.Sprintf("owner %s is not running", owner)
	case gone:
		l.Why = fmt.Sprintf("owner %s exited; its pid now belongs to a process started later", owner)
	default:
		return l, false
	}
	return l, true
}
