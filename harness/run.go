package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
	"github.com/collide-dev/collide/stacks"
)

// Options configure one run.
type Options struct {
	// Profile is the loaded, validated profile.
	Profile *profiles.Profile
	// Overrides are the --set arguments already applied, for the record.
	Overrides []string
	// OutDir is the run folder; created if missing.
	OutDir string
	// Seed overrides the profile's seed when non-zero.
	Seed int64
	// AllowRemote permits non-loopback targets and databases.
	AllowRemote bool
	// ToxiproxyURL is an external toxiproxy-server API; empty runs one
	// embedded in this process.
	ToxiproxyURL string
	// Timeout aborts the run; 0 means the attack's length plus two minutes.
	Timeout time.Duration
	// Version is collide's version, for the result.
	Version string
	// Log receives progress messages; nil discards them.
	Log io.Writer
	// Progress shows the attack's progress (elapsed, rate, ok / fail /
	// unknown, active faults) as report.StartProgress does: a line redrawn
	// every 500ms on a terminal (or report.AsTerminal), a plain line every
	// report.ProgressLineInterval on another *os.File (a CI log); nil or any
	// other writer shows nothing.
	Progress io.Writer
	// Shard, when set, makes the run one shard of a sharded run (see
	// Shard): its share of the load from the agreed start time, setup,
	// chaos and teardown on shard 0 only, and no check (verdict partial:
	// collide merge checks).
	Shard *Shard
	// ProfileSource is the profile's text as read (before ${ENV}
	// expansion); when set it is written to the run folder as
	// ProfileFile, for collide merge.
	ProfileSource []byte
}

// Files in a run folder.
const (
	ResultFile  = "result.json"
	HistoryFile = "history.jsonl"
	// ProfileFile is the profile's text as read, ${ENV} references
	// unexpanded (Options.ProfileSource).
	ProfileFile = "profile.yaml"
)

// Run executes the profile once: stack, setup, chaos, attack, heal, settle,
// check, result. It always returns a result once the run folder exists —
// partial, with verdict error or interrupted, if the run could not finish —
// and writes it to OutDir/result.json. The error, if any, says why; its type
// (*ProfileError, *EnvError) selects the exit code.
func Run(ctx context.Context, o Options) (res *report.Result, err error) {
	p := o.Profile
	pl, err := compile(p)
	if err != nil {
		return nil, err
	}
	if err := shardPlan(p, pl, o.Shard); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	seed := o.Seed
	if seed == 0 {
		seed = p.Seed
	}
	if seed == 0 {
		seed = time.Now().UnixNano() & (1<<53 - 1)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	runID := fmt.Sprintf("%s-%04x", time.Now().UTC().Format("20060102T150405"), rand.Uint32()&0xffff)

	timeout := o.Timeout
	if timeout <= 0 {
		timeout = pl.attackLen + 2*time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, envErr("result", fmt.Errorf("create run folder: %w", err))
	}
	res = newResult(o, p, seed, runID)
	if o.Shard != nil {
		res.Shard = o.Shard.info(p.Hash())
	}
	if o.ProfileSource != nil {
		if err := report.WriteFileAtomic(filepath.Join(o.OutDir, ProfileFile), o.ProfileSource); err != nil {
			return nil, envErr("result", fmt.Errorf("profile copy: %w", err))
		}
	}
	r := &run{o: o, p: p, pl: pl, res: res, rng: rng, log: log, vars: map[string]string{}, lists: map[string][]string{}, isVar: map[string]bool{}, secretVar: map[string]bool{}}
	for _, n := range p.Vars() {
		r.isVar[n] = true
	}
	for _, n := range p.SecretVars() {
		r.secretVar[n] = true
	}
	r.secrets.collect(p, o.Overrides)
	active.Store(r, struct{}{})
	defer func() {
		if pv := recover(); pv != nil {
			err = envErr("harness", fmt.Errorf("panic: %v\n%s", pv, debug.Stack()))
		}
		terr := r.teardown(ctx)
		active.Delete(r)
		if cerr := r.cleanup(); cerr != nil {
			fmt.Fprintf(log, "cleanup: %v\n", cerr)
			if err == nil {
				err = envErr("cleanup", cerr)
			}
		}
		r.finish(ctx, err)
		if terr != nil {
			msg := "teardown: " + terr.Error()
			res.Warnings = append(res.Warnings, msg)
			if res.Verdict == report.Pass {
				// A pass whose teardown failed leaves the environment dirty:
				// an error, never a fail masked or a pass claimed.
				res.Verdict, res.Error = report.Error, msg
				res.ExitCode = ExitCode(res.Verdict)
				if err == nil {
					err = envErr("teardown", terr)
				}
			}
		}
		r.scrubResult()
		if err != nil {
			err = r.scrubErr(err)
		}
		if werr := res.WriteFile(filepath.Join(o.OutDir, ResultFile)); werr != nil && err == nil {
			err = envErr("result", werr)
		}
	}()
	return res, r.execute(ctx)
}

// run is the state of one run; its cleanups run in reverse order.
type run struct {
	o        Options
	p        *profiles.Profile
	pl       *plan
	res      *report.Result
	rng      *rand.Rand
	log      io.Writer
	cleanups []func() error
	cleanMu  sync.Mutex
	hist     *history.Writer
	db       database.DB
	ch       *chaos.Chaos
	// targetAddr is the service's own host:port (not the target link's).
	targetAddr string
	// arrivals, when the service reports them (the demo), gives when each
	// burst request reached its handler, by op id.
	arrivals func() map[uint64]time.Time
	checked  bool
	// baseURL is where the attack and setup requests go.
	baseURL string
	// vars are the run-wide variables captured by setup (and teardown);
	// isVar and secretVar name the profile's variables and its secret
	// ones. bound is db with vars bound into {{name}} placeholders.
	vars map[string]string
	// lists holds the captures of repeated setup steps, in order.
	lists     map[string][]string
	isVar     map[string]bool
	secretVar map[string]bool
	bound     database.DB
	// setupBegan: teardown runs once setup has begun.
	setupBegan bool
	// secrets are the values never written verbatim.
	secrets secrets
}

func (r *run) onCleanup(f func() error) {
	r.cleanMu.Lock()
	defer r.cleanMu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// cleanup runs the registered cleanups, newest first, once: a later call
// (from Abort on a second signal, or the normal end) finds nothing left.
func (r *run) cleanup() error {
	r.cleanMu.Lock()
	defer r.cleanMu.Unlock()
	var errs []error
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		if err := r.cleanups[i](); err != nil {
			errs = append(errs, err)
		}
	}
	r.cleanups = nil
	return errors.Join(errs...)
}

// active holds the runs in progress in this process, for Abort.
var active sync.Map // *run → struct{}

// Abort runs the cleanups of every run in progress at once — toxics and
// proxies removed, started services stopped — without waiting for the runs
// to wind down. The CLI calls it on a second interrupt, right before exiting.
// It returns after at most timeout.
func Abort(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() {
		var errs []error
		active.Range(func(k, _ any) bool {
			errs = append(errs, k.(*run).cleanup())
			return true
		})
		done <- errors.Join(errs...)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("cleanup did not finish within %s", timeout)
	}
}

// testHook, when set by a test, is called at named points of a run
// ("attacked": after the attack, before healing).
var testHook func(stage string)

func hook(stage string) {
	if testHook != nil {
		testHook(stage)
	}
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprint(r.log, r.secrets.scrub(fmt.Sprintf("collide: "+format+"\n", args...)))
}

// execute runs a run's steps in order, stopping at the first that fails:
// stack, setup, attack (with the chaos schedule), heal, tally, settle,
// check. Each step hands the next what it made through an execution.
func (r *run) execute(ctx context.Context) error {
	var e execution
	for _, step := range []func(context.Context, *execution) error{
		r.stackStep, r.setupStep, r.attackStep, r.healStep, r.tallyStep, r.settleStep, r.checkStep,
	} {
		if err := step(ctx, &e); err != nil {
			return err
		}
	}
	return nil
}

// execution is what the steps of execute hand one another.
type execution struct {
	// env is what the checkers read: the bound database, the history and
	// (from the check step) the tally. Made by the setup step.
	env *invariants.Env
	// sched is the chaos schedule the attack step started; nil without
	// chaos.
	sched *chaos.Schedule
	// metrics and attackErr are what the attack returned.
	metrics   []*attacks.Metrics
	attackErr error
}

// stackStep creates the history file, then starts the stack: safety first,
// then database, chaos links, service.
func (r *run) stackStep(ctx context.Context, _ *execution) error {
	hist, err := history.Create(filepath.Join(r.o.OutDir, HistoryFile))
	if err != nil {
		return envErr("result", err)
	}
	r.hist = hist
	r.onCleanup(hist.Close)

	baseURL, err := r.startStack(ctx)
	if err != nil {
		return err
	}
	r.baseURL = baseURL
	return nil
}

// setupStep runs setup — SQL and requests; captures become run-wide
// variables, bound into every later statement and request — then resolves
// the keys that come from queries, and prepares every invariant query and
// checker before any load: a typo costs seconds, not an attack.
func (r *run) setupStep(ctx context.Context, e *execution) error {
	p := r.p
	r.bound = invariants.BindVars(r.db, r.vars)
	r.setupBegan = true
	if sh := r.o.Shard; sh != nil && sh.Index > 0 {
		// Shard 0 runs setup before the start time; the keys a query
		// gives are read after it.
		r.logf("shard %d/%d: waiting for the start at %s", sh.Index, sh.Count, sh.StartAt.Format(time.RFC3339Nano))
		if err := waitUntil(ctx, sh.StartAt); err != nil {
			return err
		}
	}
	if n := len(r.pl.setup); n > 0 {
		r.logf("setup: %d step(s)", n)
	}
	if err := r.runSteps(ctx, r.pl.setup, false); err != nil {
		return envErr("setup", err)
	}
	r.secretOperationHeaders()
	if err := r.resolveKeys(ctx); err != nil {
		return err
	}
	if err := checkStatements(ctx, p, r.pl.checkers, r.bound); err != nil {
		return err
	}
	env := &invariants.Env{DB: r.bound, HistoryPath: filepath.Join(r.o.OutDir, HistoryFile)}
	for _, op := range p.Operations {
		env.Operations = append(env.Operations, op.Name)
		for _, st := range op.Flow {
			env.Operations = append(env.Operations, op.Name+"."+st.Name)
		}
	}
	if sh := r.o.Shard; sh != nil && sh.Index > 0 {
		e.env = env // the merge reads the state before from shard 0
		return nil
	}
	var rec *recordingDB
	if r.o.Shard != nil {
		rec = &recordingDB{DB: r.bound}
		env.DB = rec
	}
	for i, c := range r.pl.checkers {
		if pr, ok := c.(invariants.Preparer); ok {
			if err := pr.Prepare(ctx, env); err != nil {
				return envErr("setup", fmt.Errorf("invariants[%d] %q: before the attack: %w", i, p.Invariants[i].Name, err))
			}
		}
	}
	env.DB = r.bound
	if rec != nil {
		if err := r.writePrepared(rec); err != nil {
			return envErr("result", err)
		}
	}
	e.env = env
	return nil
}

// attackStep runs the chaos schedule and the attack together; the attack
// is made ready first (release modes resolved, first bursts' connections
// opened), so that a burst mode the target cannot do stops the run before
// any load. A fault that cannot be applied stops the attack. The attack's
// own error is kept for the tally step, after healing.
func (r *run) attackStep(ctx context.Context, e *execution) error {
	p := r.p
	live := &attacks.Live{}
	attackCtx, stopAttack := context.WithCancel(ctx)
	defer stopAttack()
	ao := attacks.Options{BaseURL: r.baseURL, History: r.hist, Rand: r.rng, Live: live, Vars: r.vars, Redact: r.secrets.scrub}
	specs := r.pl.specs
	if sh := r.o.Shard; sh != nil {
		ao.Shard, ao.Shards = sh.Index, sh.Count
		specs = ShardSpecs(specs, sh.Index, sh.Count)
		if late := time.Since(sh.StartAt); sh.Index == 0 && sh.Count > 1 && !sh.StartAt.IsZero() && late > 0 {
			// The other shards attacked from the start time, maybe before
			// setup had reset the state: the histories cannot be checked.
			return envErr("setup", fmt.Errorf("shard 0/%d: setup ended %s after the start time %s, when the other shards began: give -start-at more time", sh.Count, late.Round(time.Millisecond), sh.StartAt.Format(time.RFC3339Nano)))
		}
		if err := waitUntil(ctx, sh.StartAt); err != nil {
			return err
		}
	}
	atk, err := attacks.Prepare(ctx, ao, specs)
	if err != nil {
		return envErr("attack", err)
	}
	r.onCleanup(func() error { atk.Close(); return nil })
	r.logf("attack: %d operation(s) for up to %s, seed %d", len(r.pl.specs), r.pl.attackLen, r.res.Seed)
	if r.ch != nil {
		sched, err := r.ch.Run(ctx, p.Chaos, 0) // attackLen 0: faults with no "for" stay until Stop, after the attack.
		if err != nil {
			return envErr("chaos", err)
		}
		e.sched = sched
		go func() {
			// A fault that cannot be applied aborts the attack: the run's
			// premise (this chaos, this load) no longer holds.
			select {
			case <-sched.Err():
				stopAttack()
			case <-sched.Done():
			case <-attackCtx.Done():
			}
		}()
	}
	hook("attack")
	stopProgress := func() {}
	if r.o.Progress != nil {
		began := time.Now()
		stopProgress = report.StartProgress(r.o.Progress, 500*time.Millisecond, func() report.ProgressSnapshot {
			snap := report.ProgressSnapshot{Elapsed: time.Since(began), Counts: live.Counts()}
			snap.Sent = int64(snap.Total())
			if r.ch != nil {
				snap.Active = r.ch.Active()
			}
			return snap
		})
	}
	metrics, attackErr := atk.Run(attackCtx)
	stopProgress()
	atk.Close()
	var arrivals map[uint64]time.Time
	for _, m := range metrics {
		if m.Bursts == 0 {
			continue
		}
		if r.arrivals != nil {
			if arrivals == nil {
				arrivals = r.arrivals()
			}
			m.SetArrivals(arrivals)
		}
		arrived := ""
		if m.ArrivalBursts > 0 {
			arrived = fmt.Sprintf("; arrival spread p50 %s, max %s", m.ArrivalSpreadP50, m.ArrivalSpreadMax)
		}
		r.logf("%s: %d bursts, %s release, spread p50 %s, max %s (first burst %s)%s%s", m.Op, m.Bursts, m.Sync,
			m.ReleaseSpreadP50, m.ReleaseSpreadMax, m.ReleaseSpreadFirst, arrived, noteOf(m.SyncNote))
	}
	r.res.Attack = metrics
	e.metrics, e.attackErr = metrics, attackErr
	hook("attacked")
	return nil
}

// healStep stops the chaos schedule and removes every fault (within 10 s,
// even when interrupted). Interrupted, a fault left half-removed is a
// warning: the interrupt decides the verdict (exit 130), and the run's
// cleanup still deletes its proxies.
func (r *run) healStep(ctx context.Context, e *execution) error {
	if e.sched == nil {
		return nil
	}
	schedErr := e.sched.Stop()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	herr := r.ch.HealAll(hctx)
	cancel()
	r.res.Chaos = r.ch.Timeline()
	chaosErr := schedErr
	if chaosErr == nil && herr != nil {
		chaosErr = fmt.Errorf("heal: %w", herr)
	}
	if chaosErr != nil {
		if ctx.Err() == nil {
			return envErr("chaos", chaosErr)
		}
		r.res.Warnings = append(r.res.Warnings, "chaos: "+chaosErr.Error())
	}
	return nil
}

// tallyStep flushes the history, writes Vegeta's results format beside it
// (so `vegeta report` and `vegeta plot` work on a run folder; a failure is
// a warning only) and totals the outcomes; then it refuses an attack that
// proves nothing: interrupted, failed, whose target went down, that sent
// nothing or whose every request failed.
func (r *run) tallyStep(ctx context.Context, e *execution) error {
	if err := r.hist.Flush(); err != nil {
		return envErr("result", err)
	}
	if err := report.WriteVegetaResults(filepath.Join(r.o.OutDir, HistoryFile), filepath.Join(r.o.OutDir, report.VegetaFile)); err != nil {
		r.logf("vegeta results: %v", err)
	} else {
		r.res.VegetaResults = report.VegetaFile
	}
	r.res.Totals = r.hist.Tally().All()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if e.attackErr != nil {
		return envErr("attack", e.attackErr)
	}
	if err := reachable(ctx, r.targetAddr); err != nil {
		return envErr("attack", fmt.Errorf("target %s went down during the run: %w", r.targetAddr, err))
	}
	if r.res.Totals.Total() == 0 {
		return envErr("attack", errors.New("no request was sent"))
	}
	if all := r.res.Totals; all.OK == 0 && all.Unknown == 0 {
		return envErr("attack", fmt.Errorf("every one of %d requests failed (e.g. %s): is the target up?", all.Total(), firstError(e.metrics)))
	}
	return nil
}

// settleStep waits the profile's settle time (default 200ms), for
// asynchronous work to quiesce before the check.
func (r *run) settleStep(ctx context.Context, _ *execution) error {
	select {
	case <-time.After(r.p.Settle.D()):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkStep runs every checker, in the profile's order, and records its
// result under the invariant's name.
func (r *run) checkStep(ctx context.Context, e *execution) error {
	if r.o.Shard != nil {
		r.checked = true // collide merge checks every shard's history together
		return nil
	}
	env := e.env
	env.Tally = r.hist.Tally()
	for i, c := range r.pl.checkers {
		start := time.Now()
		cr := c.Check(ctx, env)
		cr.Name = r.p.Invariants[i].Name
		if cr.Took == 0 {
			cr.Took = time.Since(start)
		}
		r.res.Invariants = append(r.res.Invariants, cr)
	}
	r.checked = true
	return nil
}

// checkLocal refuses a non-loopback target or database.
func (r *run) checkLocal(ctx context.Context, dbDSN string) error {
	p := r.p
	if p.Target.URL != "" {
		u, err := url.Parse(p.Target.URL)
		if err != nil {
			return &ProfileError{p.Errorf("target.url", "%v", err)}
		}
		if err := stacks.CheckLoopback(ctx, "target", u.Hostname()); err != nil {
			return &ProfileError{p.Errorf("target.url", "%v", err)}
		}
	}
	if dbDSN == "" {
		return nil // a database container: collide starts it locally
	}
	d, err := database.Lookup(p.Database.Driver)
	if err != nil {
		return &ProfileError{p.Errorf("database.driver", "%v", err)}
	}
	network, addr, err := d.Address(dbDSN)
	switch {
	case errors.Is(err, database.ErrNoNetwork), err == nil && network == "unix":
		return nil // inside the service, or a Unix socket: local
	case err != nil:
		return &ProfileError{p.Errorf("database.dsn", "driver %s: %v", d.Name(), err)}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if err := stacks.CheckLoopback(ctx, "database", host); err != nil {
		return &ProfileError{p.Errorf("database.dsn", "%v", err)}
	}
	return nil
}

// finish sets the verdict from what the run reached.
func (r *run) finish(ctx context.Context, err error) {
	res := r.res
	res.Finished = time.Now()
	if r.ch != nil {
		res.Chaos = r.ch.Timeline()
		res.ChaosLinks = r.ch.Traffic() // read by the cleanup's Close, before deleting the links
	}
	if r.hist != nil {
		res.Totals = r.hist.Tally().All()
	}
	total := res.Totals.Total()
	if total > 0 {
		res.UnknownFraction = float64(res.Totals.Unknown) / float64(total)
	}
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && !r.checked:
		res.Verdict = report.Interrupted
		if errors.Is(err, context.DeadlineExceeded) {
			res.Verdict = report.Error
			res.Error = "run timed out before the check"
		} else {
			res.Error = "interrupted before the check: " + err.Error()
		}
	case err != nil:
		res.Verdict = report.Error
		res.Error = err.Error()
	case r.o.Shard != nil:
		res.Verdict = PartialVerdict
		res.Warnings = append(res.Warnings, "partial: a shard of a sharded run; collide merge checks its history with the other shards'")
	default:
		res.Verdict = verdictOf(res)
	}
	res.ExitCode = ExitCode(res.Verdict)
	if res.Verdict == PartialVerdict {
		res.ExitCode = ExitPass
	}
	if err != nil && res.Verdict == report.Error {
		// A profile the run refused (a remote target without allow_remote,
		// a DSN that does not parse) is a usage error: exit 2 in the
		// result, the verdict line and the process alike.
		res.ExitCode = ErrorExitCode(err)
	}
}

// verdictOf combines invariant verdicts: any fail → fail; else any error →
// error; else any unknown, or too many unknown outcomes → unknown; else pass.
func verdictOf(res *report.Result) report.Verdict {
	worst := report.Pass
	for _, inv := range res.Invariants {
		switch inv.Verdict {
		case report.Fail:
			return report.Fail
		case report.Error:
			worst = report.Error
		case report.Unknown:
			if worst == report.Pass {
				worst = report.Unknown
			}
		}
	}
	if worst == report.Pass && res.UnknownFraction > res.MaxUnknown {
		worst = report.Unknown
	}
	if worst == report.Error {
		res.Error = "a checker could not run"
	}
	return worst
}

func newResult(o Options, p *profiles.Profile, seed int64, runID string) *report.Result {
	host, _ := os.Hostname()
	res := &report.Result{
		Schema:        report.SchemaVersion,
		SchemaVersion: report.SchemaVersion,
		RunID:         runID,
		Collide:       o.Version,
		Dependencies:  dependencies(),
		Env:           report.Env{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), Hostname: host},
		Profile: report.ProfileInfo{
			Name: p.Name, File: p.File(), Hash: p.Hash(), About: p.About,
			Overrides: redactOverrides(o.Overrides), Effective: redactedProfile(p),
		},
		Seed:     seed,
		Started:  time.Now(),
		History:  HistoryFile,
		Database: p.Database.Driver + " " + database.Redact(p.Database.Driver, p.Database.DSN),
	}
	if p.Verdict.MaxUnknown != nil {
		res.MaxUnknown = *p.Verdict.MaxUnknown
	} else {
		res.MaxUnknown = 0.5
	}
	if p.Target.Demo != nil {
		res.Target = "demo (" + p.Target.Demo.Mode + ")"
	} else {
		res.Target = redactURL(p.Target.URL)
	}
	return res
}

func dependencies() map[string]string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	want := []string{"github.com/tsenart/vegeta/v12", "github.com/Shopify/toxiproxy/v2", "github.com/olekukonko/tablewriter",
		"github.com/jackc/pgx/v5", "modernc.org/sqlite", "github.com/expr-lang/expr", "github.com/anishathalye/porcupine",
		"github.com/testcontainers/testcontainers-go"}
	out := map[string]string{}
	for _, d := range bi.Deps {
		for _, w := range want {
			if d.Path == w {
				out[d.Path] = d.Version
			}
		}
	}
	return out
}

// reachable dials hostport once, so a target that is down is an environment
// error before the attack, not a history full of refused requests.
func reachable(ctx context.Context, hostport string) error {
	if !strings.Contains(hostport, ":") {
		hostport += ":80"
	}
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return err
	}
	return c.Close()
}

// noteOf formats a metrics note for a log line.
func noteOf(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

func firstError(ms []*attacks.Metrics) string {
	for _, m := range ms {
		if m != nil && len(m.Errors) > 0 {
			return m.Errors[0]
		}
		if m != nil {
			for code := range m.StatusCodes {
				return "status " + code
			}
		}
	}
	return "no detail"
}
