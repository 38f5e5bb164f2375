package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// shardFlags are the flags of `collide run` that make it one shard of a
// sharded run; each falls back to an environment variable, so that a
// Kubernetes Indexed Job needs no wrapper: JOB_COMPLETION_INDEX and
// COLLIDE_SHARDS (for --shard), COLLIDE_START_AT, COLLIDE_RUN_GROUP,
// COLLIDE_CLOCK_OFFSET, COLLIDE_CLOCK_BOUND. A flag wins over its variable.
type shardFlags struct {
	shard       string
	startAt     string
	group       string
	clockOffset string
	clockBound  string
}

const (
	shardUsage       = "run shard i of N (0-based) of a sharded run: rate/N, its own {{seq}} values; setup, chaos and teardown on shard 0 only; no check (collide merge checks) (env JOB_COMPLETION_INDEX + COLLIDE_SHARDS)"
	startAtUsage     = "RFC 3339 time every shard starts its attack at; at most 10m ahead, leave shard 0 time for setup (env COLLIDE_START_AT)"
	runGroupUsage    = "id of the sharded run, the same on every shard (default: profile hash + start time) (env COLLIDE_RUN_GROUP)"
	clockOffsetUsage = "this clock minus the reference clock, e.g. 3ms (env COLLIDE_CLOCK_OFFSET)"
	clockBoundUsage  = "largest error of -clock-offset, e.g. 2ms; the merge widens every op by it (env COLLIDE_CLOCK_BOUND)"
)

func orEnv(flag, env string) (string, string) {
	if flag != "" {
		return flag, ""
	}
	return os.Getenv(env), env
}

// resolve returns the shard the flags and environment describe, nil when
// the run is not sharded; errors name the flag or variable.
func (f *shardFlags) resolve(now time.Time) (*harness.Shard, error) {
	spec := f.shard
	if spec == "" {
		n, i := os.Getenv("COLLIDE_SHARDS"), os.Getenv("JOB_COMPLETION_INDEX")
		if n == "" {
			if f.startAt != "" || f.group != "" {
				return nil, fmt.Errorf("-start-at and -run-group need -shard i/N")
			}
			return nil, nil
		}
		if i == "" {
			return nil, fmt.Errorf("COLLIDE_SHARDS=%s without JOB_COMPLETION_INDEX: which shard is this?", n)
		}
		spec = i + "/" + n
	}
	idx, count, err := harness.ParseShard(spec)
	if err != nil {
		return nil, fmt.Errorf("-shard %w", err)
	}
	sh := &harness.Shard{Index: idx, Count: count}
	if v, env := orEnv(f.startAt, "COLLIDE_START_AT"); v != "" {
		if sh.StartAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, fmt.Errorf("%s %q: want an RFC 3339 time, e.g. 2026-01-02T15:04:05Z", flagName("start-at", env), v)
		}
	}
	sh.Group, _ = orEnv(f.group, "COLLIDE_RUN_GROUP")
	for _, d := range []struct {
		name, val, env string
		into           *time.Duration
	}{{"clock-offset", f.clockOffset, "COLLIDE_CLOCK_OFFSET", &sh.ClockOffset}, {"clock-bound", f.clockBound, "COLLIDE_CLOCK_BOUND", &sh.ClockBound}} {
		v, env := orEnv(d.val, d.env)
		if v == "" {
			continue
		}
		if *d.into, err = time.ParseDuration(v); err != nil {
			return nil, fmt.Errorf("%s %q: want a duration, e.g. 5ms", flagName(d.name, env), v)
		}
	}
	if err := sh.Check(now); err != nil {
		return nil, fmt.Errorf("-shard %s: %w", spec, err)
	}
	return sh, nil
}

// flagName names a flag, or the environment variable it came from.
func flagName(flag, env string) string {
	if env != "" {
		return env
	}
	return "-" + flag
}

// profileSource is the profile's text as Load read it: the file, else the
// built-in of that name.
func profileSource(arg string) ([]byte, error) {
	if b, err := os.ReadFile(arg); err == nil {
		return b, nil
	}
	return profiles.Builtin(arg)
}

// shardOut is the default run folder of a shard.
func shardOut(name string, sh *harness.Shard) string {
	return time.Now().Format("20060102-150405") + "-" + name + "-shard-" + strconv.Itoa(sh.Index)
}
