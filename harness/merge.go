package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// MergeOptions configure collide merge.
type MergeOptions struct {
	// Dirs are the shards' run folders.
	Dirs []string
	// OutDir is the merged result's folder; created if missing.
	OutDir string
	// Partial accepts missing shards: the result is marked partial and is
	// never a pass (a pass becomes inconclusive).
	Partial bool
	// AllowRemote permits a non-loopback database.
	AllowRemote bool
	// Overrides, when set, are the --set arguments the shards ran with,
	// instead of the ones their results recorded (which are redacted: an
	// override holding a secret no longer reproduces the profile's hash).
	Overrides []string
	// Version is collide's version, for the result.
	Version string
	// Log receives progress messages; nil discards them.
	Log io.Writer
}

// shardRun is one shard's run folder, read.
type shardRun struct {
	dir  string
	res  *report.Result
	info *report.ShardInfo
}

// Merge checks a sharded run: it reads the shards' run folders, refuses
// shards of another group or profile, duplicates and a shard count that
// differs (*ProfileError, exit 2, naming the file); a missing shard is an
// *EnvError (exit 3, incomplete) unless o.Partial. It merges the histories
// into OutDir/history.jsonl — op ids renumbered 1, 2, … in invoke order
// (logical ids follow), workers w×N+i, every op's times moved to the reference clock
// (minus its shard's offset) and widened by its shard's bound (invoke −
// bound, complete + bound) — and runs the profile's checkers once, on the
// merged history and the database as it is now, with the state before the
// attack that shard 0 recorded (PreparedFile). The profile is shard 0's
// copy (ProfileFile) with the recorded overrides; its hash must be the
// shards'. It writes OutDir/result.json as a run does.
func Merge(ctx context.Context, o MergeOptions) (*report.Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	shards, err := readShards(o.Dirs)
	if err != nil {
		return nil, err
	}
	first := shards[0]
	count := first.info.Count
	var missing []int
	byIndex := make([]*shardRun, count)
	for _, s := range shards {
		byIndex[s.info.Index] = s
	}
	for i, s := range byIndex {
		if s == nil {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 && !o.Partial {
		return nil, envErr("merge", fmt.Errorf("incomplete: shard(s) %s of %d missing (--partial merges what there is, never as a pass)", joinInts(missing), count))
	}
	src := first
	if byIndex[0] != nil {
		src = byIndex[0]
	}
	p, err := loadShardProfile(src, o.Overrides)
	if err != nil {
		return nil, err
	}
	if !o.AllowRemote && !p.AllowRemote {
		if err := (&run{p: p}).checkLocal(ctx, p.Database.DSN); err != nil {
			return nil, err
		}
	}
	if p.Database.DSN == "" {
		return nil, &ProfileError{p.Errorf("database.dsn", "collide merge needs the database's DSN to check its final state")}
	}
	pl, err := compile(p)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, envErr("result", fmt.Errorf("create result folder: %w", err))
	}

	runID := fmt.Sprintf("%s-%04x", time.Now().UTC().Format("20060102T150405"), rand.Uint32()&0xffff)
	res := newResult(Options{Version: o.Version}, p, src.res.Seed, runID)
	res.Target, res.Database = src.res.Target, src.res.Database
	res.Profile.Overrides = src.res.Profile.Overrides
	res.Started = src.res.Started
	mi := &report.MergeInfo{Group: first.info.Group, Count: count, Missing: missing, Partial: len(missing) > 0}
	for _, s := range byIndex {
		if s == nil {
			continue
		}
		si := *s.info
		si.Dir = s.dir
		mi.Shards = append(mi.Shards, si)
		res.Attack = append(res.Attack, s.res.Attack...)
		res.Warnings = append(res.Warnings, s.res.Warnings...)
		if s.res.Started.Before(res.Started) {
			res.Started = s.res.Started
		}
		if s.info.Index == 0 {
			res.Chaos, res.ChaosLinks = s.res.Chaos, s.res.ChaosLinks
		}
	}
	res.Warnings = slices.DeleteFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, "partial: ") })
	res.Merge = mi

	tally, err := mergeHistories(filepath.Join(o.OutDir, HistoryFile), byIndex)
	if err != nil {
		return nil, envErr("merge", err)
	}
	res.Totals = tally.All()
	if total := res.Totals.Total(); total > 0 {
		res.UnknownFraction = float64(res.Totals.Unknown) / float64(total)
	}
	if err := report.WriteVegetaResults(filepath.Join(o.OutDir, HistoryFile), filepath.Join(o.OutDir, report.VegetaFile)); err == nil {
		res.VegetaResults = report.VegetaFile
	}
	fmt.Fprintf(log, "collide: merged %d shard(s) of %d: %d ops\n", len(shards), count, res.Totals.Total())

	cerr := checkMerged(ctx, p, pl, o.OutDir, byIndex[0], tally, res)
	res.Finished = time.Now()
	switch {
	case cerr != nil:
		res.Verdict, res.Error = report.Error, cerr.Error()
	default:
		res.Verdict = verdictOf(res)
	}
	if mi.Partial && res.Verdict == report.Pass {
		res.Verdict = report.Unknown
		res.Warnings = append(res.Warnings, fmt.Sprintf("partial: shard(s) %s missing; what was merged held, which proves nothing about the whole", joinInts(missing)))
	}
	res.ExitCode = ExitCode(res.Verdict)
	if werr := res.WriteFile(filepath.Join(o.OutDir, ResultFile)); werr != nil && cerr == nil {
		cerr = envErr("result", werr)
	}
	return res, cerr
}

// readShards reads and cross-checks the shards' results.
func readShards(dirs []string) ([]*shardRun, error) {
	if len(dirs) == 0 {
		return nil, &ProfileError{errors.New("name the shards' run folders")}
	}
	var out []*shardRun
	seen := map[int]string{}
	for _, dir := range dirs {
		path := filepath.Join(dir, ResultFile)
		res, err := report.ReadFile(path)
		if err != nil {
			return nil, &ProfileError{fmt.Errorf("%s: %w", path, err)}
		}
		si := res.Shard
		if si == nil {
			return nil, &ProfileError{fmt.Errorf("%s: not a shard's run (no shard record: run it with --shard i/N)", path)}
		}
		if si.Count < 1 || si.Index < 0 || si.Index >= si.Count {
			return nil, &ProfileError{fmt.Errorf("%s: shard %d/%d is not a valid shard", path, si.Index, si.Count)}
		}
		if len(out) > 0 {
			f := out[0]
			switch {
			case si.Group != f.info.Group:
				return nil, &ProfileError{fmt.Errorf("%s: run group %q, but %s has %q: shards of another run", path, si.Group, filepath.Join(f.dir, ResultFile), f.info.Group)}
			case si.ProfileHash != f.info.ProfileHash:
				return nil, &ProfileError{fmt.Errorf("%s: profile hash %.12s, but %s has %.12s: shards of another profile", path, si.ProfileHash, filepath.Join(f.dir, ResultFile), f.info.ProfileHash)}
			case si.Count != f.info.Count:
				return nil, &ProfileError{fmt.Errorf("%s: shard %d of %d, but %s is of %d", path, si.Index, si.Count, filepath.Join(f.dir, ResultFile), f.info.Count)}
			}
		}
		if other, dup := seen[si.Index]; dup {
			return nil, &ProfileError{fmt.Errorf("%s: shard %d given twice (also %s)", path, si.Index, filepath.Join(other, ResultFile))}
		}
		seen[si.Index] = dir
		if res.Verdict != PartialVerdict {
			return nil, envErr("merge", fmt.Errorf("%s: shard %d did not finish its attack (verdict %s: %s)", path, si.Index, res.Verdict, res.Error))
		}
		out = append(out, &shardRun{dir: dir, res: res, info: si})
	}
	return out, nil
}

// loadShardProfile parses the shard's copy of the profile with its recorded
// overrides and checks it is the profile the shards ran.
func loadShardProfile(s *shardRun, overrides []string) (*profiles.Profile, error) {
	if overrides == nil {
		overrides = s.res.Profile.Overrides
	}
	path := filepath.Join(s.dir, ProfileFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ProfileError{fmt.Errorf("%s: %w (the shard was not run by collide run)", path, err)}
	}
	p, err := profiles.Parse(path, data, overrides)
	if err != nil {
		return nil, &ProfileError{err}
	}
	if p.Hash() != s.info.ProfileHash {
		return nil, &ProfileError{fmt.Errorf("%s: with the recorded overrides its hash is %.12s, not the shards' %.12s (an override held a secret? give the shards' -set again)", path, p.Hash(), s.info.ProfileHash)}
	}
	return p, nil
}

// mergeHistories writes the shards' ops to path in completion order on the
// reference clock, as a run writes its history, and returns their tally.
// Op ids are renumbered 1, 2, … in invoke order (on the reference clock),
// so that they stay unique and increase in invoke order per operation;
// logical ids follow their ops; workers become worker×N+i.
func mergeHistories(path string, shards []*shardRun) (*history.Tally, error) {
	n := len(shards)
	type from struct {
		shard int
		id    uint64
	}
	var ops []history.Op
	var origin []from
	for i, s := range shards {
		if s == nil {
			continue
		}
		offset := time.Duration(s.info.ClockOffsetNS)
		bound := time.Duration(s.info.ClockBoundNS)
		err := history.Each(filepath.Join(s.dir, HistoryFile), func(op *history.Op) error {
			op.Worker = op.Worker*n + i
			op.Invoke = widen(op.Invoke, -offset-bound)
			op.Complete = widen(op.Complete, -offset+bound)
			ops = append(ops, *op)
			origin = append(origin, from{i, op.ID})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return ops[a].Invoke.Compare(ops[b].Invoke) })
	ids := make(map[from]uint64, len(ops))
	for rank, k := range order {
		ids[origin[k]] = uint64(rank + 1)
	}
	for k := range ops {
		op := &ops[k]
		op.ID = ids[origin[k]]
		if op.Logical != 0 {
			if id, ok := ids[from{origin[k].shard, op.Logical}]; ok {
				op.Logical = id
			} else {
				op.Logical = uint64(len(ops)) + op.Logical*uint64(n) + uint64(origin[k].shard) // unique, outside the op ids
			}
		}
	}
	slices.SortStableFunc(ops, func(a, b history.Op) int { return a.Complete.Compare(b.Complete) })
	w, err := history.Create(path)
	if err != nil {
		return nil, err
	}
	for i := range ops {
		if err := w.Append(&ops[i]); err != nil {
			w.Close()
			return nil, err
		}
	}
	t := w.Tally()
	return t, w.Close()
}

// widen moves t by d, leaving a zero time zero.
func widen(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(d)
}

// checkMerged runs every checker once on the merged history: Prepare
// against shard 0's recorded reads, Check against the database now.
func checkMerged(ctx context.Context, p *profiles.Profile, pl *plan, dir string, shard0 *shardRun, tally *history.Tally, res *report.Result) error {
	db, err := database.Open(ctx, p.Database.Driver, p.Database.DSN)
	if err != nil {
		return envErr("check", fmt.Errorf("database %s: %w", database.Redact(p.Database.Driver, p.Database.DSN), err))
	}
	defer db.Close()
	vars := map[string]string{}
	var pre *prepared
	if shard0 != nil {
		if pre, err = readPrepared(filepath.Join(shard0.dir, PreparedFile)); err != nil {
			return envErr("check", err)
		}
		vars = pre.Vars
	}
	bound := invariants.BindVars(db, vars)
	env := &invariants.Env{DB: bound, HistoryPath: filepath.Join(dir, HistoryFile)}
	for _, op := range p.Operations {
		env.Operations = append(env.Operations, op.Name)
		for _, st := range op.Flow {
			env.Operations = append(env.Operations, op.Name+"."+st.Name)
		}
	}
	if pre != nil {
		// The state before, as shard 0 read it; a checker whose Prepare
		// fails (or that shard 0 could not record: no shard 0) reports
		// error from Check, never pass.
		env.DB = &replayDB{DB: bound, reads: pre.Reads}
		for _, c := range pl.checkers {
			if pr, ok := c.(invariants.Preparer); ok {
				_ = pr.Prepare(ctx, env)
			}
		}
		env.DB = bound
	}
	env.Tally = tally
	for i, c := range pl.checkers {
		start := time.Now()
		cr := c.Check(ctx, env)
		cr.Name = p.Invariants[i].Name
		if cr.Took == 0 {
			cr.Took = time.Since(start)
		}
		res.Invariants = append(res.Invariants, cr)
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
