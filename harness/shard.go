package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"path/filepath"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// Shard makes a run one shard of a sharded run: Count processes (machines,
// Kubernetes pods) attack one service together from a start time they
// agree on, each with its share of every operation's rate, and
// `collide merge` checks their histories together.
type Shard struct {
	// Index is the shard's number, 0 … Count-1. Shard 0 alone runs setup,
	// applies chaos and runs teardown; the others only attack.
	Index int
	// Count is the number of shards, ≥ 1.
	Count int
	// Group names the sharded run; every shard of it carries the same one.
	// Empty: derived from the profile's hash and StartAt.
	Group string
	// StartAt is when every shard starts its attack (shard 0 runs setup
	// before it). Zero: at once (only sensible for Count 1).
	StartAt time.Time
	// ClockOffset is this machine's clock minus the reference clock, as
	// measured (e.g. by the coordinator): a time read here minus
	// ClockOffset is the reference's time.
	ClockOffset time.Duration
	// ClockBound is the largest error of ClockOffset: the reference time of
	// a local reading t is within [t−ClockOffset−ClockBound,
	// t−ClockOffset+ClockBound]. The merge widens every op by it.
	ClockBound time.Duration
}

// Start-time limits: a start further ahead than MaxStartAhead, or more than
// MaxStartLate in the past, is refused (a typo must not hang a pod for a
// day, and a late shard would attack alone).
const (
	MaxStartAhead = 10 * time.Minute
	MaxStartLate  = time.Second
)

// PartialVerdict is the verdict of a shard run: its checkers have not run,
// `collide merge` checks every shard's history together. Its exit code is 0.
const PartialVerdict report.Verdict = "partial"

// ParseShard parses "i/N" (0 ≤ i < N).
func ParseShard(s string) (index, count int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want i/N, e.g. 0/3", s)
	}
	index, err1 := strconv.Atoi(a)
	count, err2 := strconv.Atoi(b)
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("%q: want i/N with whole numbers, e.g. 0/3", s)
	case count < 1:
		return 0, 0, fmt.Errorf("%q: N must be at least 1", s)
	case index < 0 || index >= count:
		return 0, 0, fmt.Errorf("%q: i must be 0 … %d (0-based)", s, count-1)
	}
	return index, count, nil
}

// Check validates the shard against now.
func (s *Shard) Check(now time.Time) error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: want 0 ≤ i < N", s.Index, s.Count)
	}
	if s.ClockBound < 0 {
		return errors.New("clock bound must not be negative")
	}
	if s.StartAt.IsZero() {
		if s.Count > 1 {
			return errors.New("a run of more than one shard needs a start time (--start-at) all shards agree on")
		}
		return nil
	}
	if d := s.StartAt.Sub(now); d > MaxStartAhead {
		return fmt.Errorf("start time %s is %s ahead: at most %s", s.StartAt.Format(time.RFC3339), d.Round(time.Second), MaxStartAhead)
	}
	if d := now.Sub(s.StartAt); d > MaxStartLate {
		return fmt.Errorf("start time %s passed %s ago: at most %s late", s.StartAt.Format(time.RFC3339), d.Round(time.Millisecond), MaxStartLate)
	}
	return nil
}

// GroupID is Group, or "<first 12 hex digits of the profile hash>-<start
// time as Unix seconds>" when Group is empty.
func (s *Shard) GroupID(profileHash string) string {
	if s.Group != "" {
		return s.Group
	}
	h := profileHash
	if len(h) > 12 {
		h = h[:12]
	}
	return fmt.Sprintf("%s-%d", h, s.StartAt.Unix())
}

// Share is shard index's part of total when it is divided among count
// shards: total/count, and one more for the lowest total%count shards.
func Share(total, index, count int) int {
	if count <= 1 {
		return total
	}
	n := total / count
	if index < total%count {
		n++
	}
	return n
}

// ShardSpecs returns copies of specs with shard index's share of every
// operation: its rate (and ramp), workers, max workers and request count
// divided by Share. A burst is whole — its copies stay in one shard, since
// their release is synchronized within one process — so a burst
// operation's rate (bursts per period) is divided, never its copies. An
// operation whose share is zero (rate 2/s over 3 shards: shard 2) is left
// out; members of another operation's burst are kept as they are.
func ShardSpecs(specs []*attacks.Spec, index, count int) []*attacks.Spec {
	if count <= 1 {
		return specs
	}
	out := make([]*attacks.Spec, 0, len(specs))
	for _, s := range specs {
		if s.Member {
			out = append(out, s)
			continue
		}
		c := *s
		if !s.Rate.Max() {
			c.Rate.Freq = Share(s.Rate.Freq, index, count)
			if c.Rate.Freq == 0 {
				continue
			}
		}
		if s.RampTo != nil {
			r := *s.RampTo
			if !r.Max() {
				r.Freq = max(1, Share(r.Freq, index, count))
			}
			c.RampTo = &r
		}
		if s.Iterations > 0 {
			c.Iterations = Share(s.Iterations, index, count)
			if c.Iterations == 0 {
				continue
			}
		}
		if s.Workers > 0 {
			c.Workers = max(1, Share(s.Workers, index, count))
		}
		if s.MaxWorkers > 0 {
			c.MaxWorkers = max(c.Workers, Share(s.MaxWorkers, index, count))
		}
		out = append(out, &c)
	}
	return out
}

// waitUntil sleeps until t (at once if t is zero or past), or until ctx is
// done.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// shardInfo is the shard's record in result.json.
func (s *Shard) info(profileHash string) *report.ShardInfo {
	return &report.ShardInfo{
		Group: s.GroupID(profileHash), ProfileHash: profileHash, Index: s.Index, Count: s.Count,
		StartAt: s.StartAt, ClockOffsetNS: s.ClockOffset.Nanoseconds(), ClockBoundNS: s.ClockBound.Nanoseconds(),
	}
}

// shardPlan refuses a profile that cannot be sharded and leaves setup,
// teardown and chaos to shard 0.
func shardPlan(p *profiles.Profile, pl *plan, sh *Shard) error {
	if sh == nil {
		return nil
	}
	if sh.Count > 1 {
		if p.Target.URL == "" {
			return &ProfileError{p.Errorf("target", "a run of %d shards needs target.url: every shard must attack one running service", sh.Count)}
		}
		if vs := p.Vars(); len(vs) > 0 {
			return &ProfileError{p.Errorf("setup", "a run of %d shards cannot share the variables setup captures (%s): only shard 0 runs setup", sh.Count, strings.Join(vs, ", "))}
		}
	}
	if sh.Index > 0 {
		pl.setup, pl.teardown, pl.links = nil, nil, nil
	}
	return nil
}

// writePrepared writes PreparedFile: what the checkers read before the
// attack, and the non-secret run-wide variables.
func (r *run) writePrepared(rec *recordingDB) error {
	pr := &prepared{Reads: rec.reads, Vars: map[string]string{}}
	for k, v := range r.vars {
		if !r.secretVar[k] {
			pr.Vars[k] = v
		}
	}
	if pr.Reads == nil {
		pr.Reads = []preparedRead{}
	}
	return writePrepared(filepath.Join(r.o.OutDir, PreparedFile), pr)
}
