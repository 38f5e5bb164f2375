package invariants

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// defaultLockSlack is added to the TTL for delivery delays and clock steps.
const defaultLockSlack = 500 * time.Millisecond

const (
	twoHoldersFix  = "Use distributed locks for critical sections: acquire with SET key token NX PX ttl and release with a compare-and-delete script (if GET == token then DEL), keep the work shorter than the TTL (or extend it and check a fencing token), or take pg_try_advisory_xact_lock inside the transaction that does the work"
	neverExpireFix = "Use distributed locks for critical sections: give every lock a TTL (SET key token NX PX ttl; for PostgreSQL pg_try_advisory_xact_lock, which a dead holder's rolled-back transaction releases, instead of a session-level pg_try_advisory_lock on a pooled connection), and release in a finally/defer"
	tokenFix       = "Use distributed locks for critical sections: give every acquire a fresh random token (a UUID) and release only with that token"
)

// locksChecker is the "locks" checker (audit RC-007): an endpoint that
// acquires a lock, holds it and releases it answers ok with the captures
// acquired_at and released_at (server times, RFC 3339) and, optionally,
// holder and token; a rejected acquire is fail with status 409 or 423 (and
// never a hang); other failures are ignored.
// From the history it proves, per lock key (the op's key or group):
//
//   - mutual exclusion: no two ok holds overlap in time;
//   - tokens: no two ok holds share a token;
//   - expiry: an acquire is rejected only while some request may hold the
//     lock. An ok op may hold it between its invoke and complete; an unknown
//     op (its holder cut off mid-hold) until its complete + slack + ttl, by
//     when the lock must have expired. A rejection outside every such window
//     means a dead holder's lock never expired.
//
// Unknown ops never give a false alarm: their holds are invisible to the
// exclusion check and widen the windows of the expiry check.
type locksChecker struct {
	name  string
	op    string
	group string
	ttl   time.Duration
	slack time.Duration
	w     words
}

// locksCheck is the checker's name, written once: the profile's check: value.
const locksCheck = "locks"

func init() {
	Register(Kind[locksFields]{
		Name: locksCheck, About: "lock holds never overlap, dead holders' locks expire (RC-007)",
		Op: Required, New: newLocks,
	})
}

// locksFields are locks' own fields.
type locksFields struct {
	Group string            `yaml:"group" jsonschema_description:"The rendered value or capture naming the lock; default the op's history key."`
	TTL   profiles.Duration `yaml:"ttl" jsonschema_description:"The lock's time to live (required), e.g. 1s."`
	Slack profiles.Duration `yaml:"slack" jsonschema_description:"Tolerance added to ttl for delivery delays (default 500ms)."`
}

// Defaults gives slack its default.
func (f *locksFields) Defaults() {
	if f.Slack == 0 {
		f.Slack = profiles.Duration(defaultLockSlack)
	}
}

func newLocks(inv profiles.Invariant, f *locksFields) (Checker, error) {
	if f.TTL == 0 {
		return nil, fmt.Errorf("ttl is required by checker %s", locksCheck)
	}
	return &locksChecker{name: checkName(inv, locksCheck), op: inv.Op, group: f.Group, ttl: f.TTL.D(), slack: f.Slack.D(), w: wordsOf(inv)}, nil
}

// hold is one ok op's time with the lock, by the server's clock.
type hold struct {
	op                *history.Op
	acquired, release time.Time
	holder, token     string
}

func (h hold) String() string {
	var who []string
	if h.holder != "" {
		who = append(who, "holder "+formatValue(h.holder))
	}
	if h.token != "" {
		who = append(who, "token "+formatValue(h.token))
	}
	s := fmt.Sprintf("#%d", h.op.ID)
	if len(who) > 0 {
		s += " (" + strings.Join(who, ", ") + ")"
	}
	return fmt.Sprintf("%s held %s–%s", s, clock(h.acquired), clock(h.release))
}

// window is when an op may have held the lock, by the client's clock.
type window struct {
	start, end time.Time
	op         *history.Op
}

func (c *locksChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, locksCheck, fmt.Sprintf("never two holders of one lock at once; a rejected acquire only while a holder may hold the lock (a cut-off holder's lock expires within ttl %s + slack %s)", c.ttl, c.slack))
	if env == nil {
		return res.errorf(start, "no environment")
	}
	if err := checkOpNames(env, c.op); err != nil {
		return res.errorf(start, "%v", err)
	}
	ops, err := readOps(env, c.op)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	if len(ops) == 0 {
		return res.errorf(start, "the history has no %q ops: nothing to check", c.op)
	}
	holds := map[string][]hold{}
	windows := map[string][]window{}
	rejects := map[string][]*history.Op{}
	var all history.Counts
	// unplaced are the windows of unknown ops whose lock name (group, a
	// capture) was lost with their response: they may hold any lock.
	var unplaced []window
	for _, o := range ops {
		all.Add(o.Outcome)
		k, found := groupKey(o, c.group)
		if !found {
			if o.Outcome == history.Unknown {
				unplaced = append(unplaced, window{o.Invoke, o.Complete.Add(c.slack + c.ttl), o})
			}
			if o.Outcome != history.OK {
				continue
			}
			return res.errorf(start, "ok op %s has no value or capture %q naming its lock", fmtOp(o), c.group)
		}
		switch o.Outcome {
		case history.OK:
			h, err := holdOf(o)
			if err != nil {
				return res.errorf(start, "%v", err)
			}
			holds[k] = append(holds[k], h)
			windows[k] = append(windows[k], window{o.Invoke, o.Complete, o})
		case history.Unknown:
			windows[k] = append(windows[k], window{o.Invoke, o.Complete.Add(c.slack + c.ttl), o})
		case history.Fail:
			// 409 Conflict or 423 Locked: the lock was taken. Other failures
			// (a refused connection, 400) say nothing about the lock.
			if o.Status == 409 || o.Status == 423 {
				rejects[k] = append(rejects[k], o)
			}
		}
	}

	var overlaps, shared, stuck []string
	// The first violation of each kind explains the failure, in the order
	// of the anomaly: overlap, then a stuck lock, then a shared token.
	type why struct {
		text  string
		ops   []*history.Op
		roles []string
	}
	var whyOverlap, whyStuck, whyShared *why
	lockOf := func(k string) string {
		if k == "" {
			return "the lock"
		}
		return "lock " + keyWord(k)
	}
	nOverlap, nShared, nStuck := 0, 0, 0
	for _, k := range sortedKeys(holds) {
		hs := holds[k]
		sort.SliceStable(hs, func(i, j int) bool { return hs[i].acquired.Before(hs[j].acquired) })
		// Mutual exclusion: sweep, keeping the hold that releases last.
		var last *hold
		for i := range hs {
			h := &hs[i]
			if last != nil && h.acquired.Before(last.release) {
				nOverlap++
				overlaps = append(overlaps, fmt.Sprintf("%s%s and %s overlap by %s", lockPrefix(k), last, h, overlapOf(*last, *h)))
				if whyOverlap == nil {
					whyOverlap = &why{fmt.Sprintf("Let #%d hold %s from %s to %s, and #%d acquire it at %s; Then two requests held it at once, for %s.",
						last.op.ID, lockOf(k), clock(last.acquired), clock(last.release), h.op.ID, clock(h.acquired), overlapOf(*last, *h)),
						[]*history.Op{last.op, h.op}, []string{"holder", "second holder"}}
				}
			}
			if last == nil || h.release.After(last.release) {
				last = h
			}
		}
		// Tokens.
		byToken := map[string][]hold{}
		for _, h := range hs {
			if h.token != "" {
				byToken[h.token] = append(byToken[h.token], h)
			}
		}
		for _, t := range sortedKeys(byToken) {
			if same := byToken[t]; len(same) > 1 {
				nShared++
				var parts []string
				for _, h := range same[:min(len(same), 3)] {
					parts = append(parts, h.String())
				}
				shared = append(shared, fmt.Sprintf("%stoken %s given to %d holds — %s", lockPrefix(k), formatValue(t), len(same), strings.Join(parts, "; ")))
				if whyShared == nil {
					w := &why{text: fmt.Sprintf("Let #%d and #%d both acquire %s; Then both were given token %s, so either could release the other's lock.",
						same[0].op.ID, same[1].op.ID, lockOf(k), formatValue(t))}
					for _, h := range same[:2] {
						w.ops, w.roles = append(w.ops, h.op), append(w.roles, "holder")
					}
					whyShared = w
				}
			}
		}
	}
	// Expiry: every rejection must meet a window in which a holder may hold.
	for _, k := range sortedKeys(rejects) {
		ws := append(slices.Clone(windows[k]), unplaced...)
		sort.Slice(ws, func(i, j int) bool { return ws[i].start.Before(ws[j].start) })
		// latest[i] is the window ending last among ws[:i+1].
		latest := make([]int, len(ws))
		for i := range ws {
			latest[i] = i
			if i > 0 && ws[latest[i-1]].end.After(ws[i].end) {
				latest[i] = latest[i-1]
			}
		}
		for _, r := range rejects[k] {
			// Windows that started by the time the rejection came back.
			n := sort.Search(len(ws), func(i int) bool { return ws[i].start.After(r.Complete) })
			if n > 0 && !ws[latest[n-1]].end.Before(r.Invoke) {
				continue
			}
			nStuck++
			line := fmt.Sprintf("%s%s rejected", lockPrefix(k), fmtOp(r))
			wy := &why{ops: []*history.Op{r}, roles: []string{"rejected acquire"}}
			if n > 0 {
				w := ws[latest[n-1]]
				gap := r.Invoke.Sub(w.end)
				if w.op.Outcome == history.Unknown {
					line += fmt.Sprintf(" %s after the cut-off holder %s could still hold it (ttl %s + slack %s)", gap.Round(time.Millisecond), fmtOp(w.op), c.ttl, c.slack)
					wy.text = fmt.Sprintf("Let holder #%d be cut off at %s, so its hold on %s expires by %s (ttl %s + slack %s); Then #%d was refused %s at %s, %s later.",
						w.op.ID, clock(w.op.Complete), lockOf(k), clock(w.end), c.ttl, c.slack, r.ID, lockOf(k), clock(r.Invoke), gap.Round(time.Millisecond))
					wy.ops, wy.roles = append(wy.ops, w.op), append(wy.roles, "cut-off holder")
				} else {
					line += fmt.Sprintf(" %s after the last holder %s released it", gap.Round(time.Millisecond), fmtOp(w.op))
					wy.text = fmt.Sprintf("Let the last holder #%d release %s at %s; Then #%d was refused it at %s, %s later, while nobody held it.",
						w.op.ID, lockOf(k), clock(w.end), r.ID, clock(r.Invoke), gap.Round(time.Millisecond))
					wy.ops, wy.roles = append(wy.ops, w.op), append(wy.roles, "last holder")
				}
			} else {
				line += " while no request of the run held the lock"
				wy.text = fmt.Sprintf("Let no request of the run hold %s; Then #%d was refused it at %s.", lockOf(k), r.ID, clock(r.Invoke))
			}
			if whyStuck == nil {
				whyStuck = wy
			}
			stuck = append(stuck, line)
		}
	}
	nLocks := len(windows) + len(rejectsOnly(rejects, windows))
	res.Actual = fmt.Sprintf("%d %s, %d %s (%s)", nLocks, plural(nLocks, "lock", locksCheck), len(ops), plural(len(ops), "request", "requests"), countsText(all))
	if n := len(unplaced); n > 0 {
		res.Actual += fmt.Sprintf("; %d unknown %s carried no %s (response cut): each may have held any lock", n, plural(n, "request", "requests"), c.group)
	}
	if nOverlap+nShared+nStuck == 0 {
		res.Actual += "; holds never overlapped and every rejection met a holder"
		return res.done(start)
	}
	res.Verdict = Fail
	var words []string
	if nOverlap > 0 {
		res.Anomaly, res.Fix = "two holders at once", twoHoldersFix
		words = append(words, fmt.Sprintf("%d overlapping %s", nOverlap, plural(nOverlap, "hold", "holds")))
	}
	if nStuck > 0 {
		if res.Anomaly == "" {
			res.Anomaly, res.Fix = "lock never expired", neverExpireFix
		}
		words = append(words, fmt.Sprintf("%d %s rejected while no holder could hold the lock", nStuck, plural(nStuck, "acquire", "acquires")))
	}
	if nShared > 0 {
		if res.Anomaly == "" {
			res.Anomaly, res.Fix = "shared lock token (a holder could release another's lock)", tokenFix
		}
		words = append(words, fmt.Sprintf("%d %s shared by several holds", nShared, plural(nShared, "token", "tokens")))
	}
	res.Actual += "; " + strings.Join(words, ", ")
	for _, w := range []*why{whyOverlap, whyStuck, whyShared} {
		if w != nil {
			res.Explanation = w.text
			for i, o := range w.ops {
				res.addOps(w.roles[i], o)
			}
			break
		}
	}
	for _, l := range append(append(overlaps, stuck...), shared...) {
		res.addEvidence(l)
	}
	return res.done(start)
}

// rejectsOnly lists the keys with rejections but no hold window, so the lock
// count includes locks nobody got.
func rejectsOnly(rejects map[string][]*history.Op, windows map[string][]window) []string {
	var keys []string
	for k := range rejects {
		if _, ok := windows[k]; !ok {
			keys = append(keys, k)
		}
	}
	return keys
}

func overlapOf(a, b hold) time.Duration {
	end := a.release
	if b.release.Before(end) {
		end = b.release
	}
	return end.Sub(b.acquired).Round(time.Microsecond)
}

// holdOf reads an ok op's captures.
func holdOf(o *history.Op) (hold, error) {
	h := hold{op: o}
	var err error
	if h.acquired, err = captureTime(o, "acquired_at"); err != nil {
		return h, err
	}
	if h.release, err = captureTime(o, "released_at"); err != nil {
		return h, err
	}
	if h.release.Before(h.acquired) {
		return h, fmt.Errorf("ok op %s: released_at %s is before acquired_at %s", fmtOp(o), clock(h.release), clock(h.acquired))
	}
	if v, ok := o.Captures["holder"]; ok {
		h.holder, _ = valueText(v)
	}
	if v, ok := o.Captures["token"]; ok {
		h.token, _ = valueText(v)
	}
	return h, nil
}

func captureTime(o *history.Op, name string) (time.Time, error) {
	v, ok := o.Captures[name]
	if !ok {
		return time.Time{}, fmt.Errorf("ok op %s has no capture %q: capture the server's %s (RFC 3339) from the response", fmtOp(o), name, name)
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("ok op %s: capture %s is %s, want an RFC 3339 time", fmtOp(o), name, formatValue(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("ok op %s: capture %s: %v", fmtOp(o), name, err)
	}
	return t, nil
}

// lockPrefix begins an evidence line about lock k: `lock "a": `, or
// nothing when the profile names no lock key.
func lockPrefix(k string) string {
	if k == "" {
		return ""
	}
	return "lock " + formatValue(k) + ": "
}
