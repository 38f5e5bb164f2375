package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// runOptions are the flags of `collide run`, checked before any I/O.
type runOptions struct {
	out         string
	sets        multiFlag
	seed        int64
	allowRemote bool
	toxiproxy   string
	format      string
	timeout     time.Duration
	quiet       bool
	wide        bool
	progress    string
	count       int
	untilFail   bool
	shard       shardFlags
}

func (o *runOptions) check() error {
	if err := o.checkFormat(); err != nil {
		return err
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return fmt.Errorf("-progress %q: want auto, always or never", o.progress)
	}
	if o.count < 1 {
		return fmt.Errorf("-count %d: want 1 or more", o.count)
	}
	if o.timeout < 0 {
		return fmt.Errorf("-timeout must not be negative")
	}
	return nil
}

// checkFormat looks -format up where the output will: the count formats
// with -count or -until-fail, else the run formats.
func (o *runOptions) checkFormat() error {
	if o.count > 1 || o.untilFail {
		_, err := report.CountFormats.Lookup(o.format)
		return err
	}
	_, err := report.RunFormats.Lookup(o.format)
	return err
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// A run's live heap is small (~10 MB) and churns per request: at the
	// default GOGC=100 the collector runs ~10 times a second at 2,000
	// requests/s and its pauses and assists lift p99 latency above vegeta's.
	// 400 cuts the cycles by 4 for ~10 MB more RSS (docs/benchmarks.md). A
	// GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	var o runOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "", "run folder (default runs/<time>-<profile>)")
	fs.Var(&o.sets, "set", "override a profile field, e.g. -set target.demo.mode=safe (repeatable)")
	fs.Int64Var(&o.seed, "seed", 0, "random seed (default: the profile's, else from the clock); printed in the result")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a target or database outside loopback")
	fs.StringVar(&o.toxiproxy, "toxiproxy", "", "URL of an external toxiproxy-server API (default: embedded)")
	fs.StringVar(&o.format, "format", "table", "output: "+report.OrList(report.RunFormats.Names()))
	fs.DurationVar(&o.timeout, "timeout", 0, "abort the run after this long (default: attack length + 2m)")
	fs.BoolVar(&o.quiet, "q", false, "no progress messages on stderr")
	fs.BoolVar(&o.wide, "wide", false, wideUsage)
	fs.StringVar(&o.progress, "progress", "auto", progressUsage)
	fs.IntVar(&o.count, "count", 1, countUsage)
	fs.BoolVar(&o.untilFail, "until-fail", false, untilFailUsage)
	fs.StringVar(&o.shard.shard, "shard", "", shardUsage)
	fs.StringVar(&o.shard.startAt, "start-at", "", startAtUsage)
	fs.StringVar(&o.shard.group, "run-group", "", runGroupUsage)
	fs.StringVar(&o.shard.clockOffset, "clock-offset", "", clockOffsetUsage)
	fs.StringVar(&o.shard.clockBound, "clock-bound", "", clockBoundUsage)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide run [flags] PROFILE.yaml|BUILTIN")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "collide run: name one profile, a file or a built-in (collide list), not %d; collide run -h shows the flags\n", fs.NArg())
		return harness.ExitUsage
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide run:", err)
		return harness.ExitUsage
	}
	shard, err := o.shard.resolve(time.Now())
	if err == nil && shard != nil && (o.count > 1 || o.untilFail) {
		err = fmt.Errorf("-shard runs once: not with -count or -until-fail")
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide run:", err)
		return harness.ExitUsage
	}
	p, err := profiles.Load(fs.Arg(0), o.sets)
	if err != nil {
		fmt.Fprintln(stderr, "collide:", err)
		return harness.ExitUsage
	}
	out := o.out
	if out == "" {
		out = filepath.Join("runs", time.Now().Format("20060102-150405")+"-"+p.Name)
		if shard != nil {
			out = filepath.Join("runs", shardOut(p.Name, shard))
		}
	}
	var source []byte
	if shard != nil {
		if source, err = profileSource(fs.Arg(0)); err != nil {
			fmt.Fprintf(stderr, "collide run: %s: %v\n", fs.Arg(0), err)
			return harness.ExitUsage
		}
	}
	var log io.Writer = stderr
	if o.quiet {
		log = io.Discard
	}
	ho := harness.Options{
		Profile:       p,
		Overrides:     o.sets,
		OutDir:        out,
		Seed:          o.seed,
		AllowRemote:   o.allowRemote,
		ToxiproxyURL:  o.toxiproxy,
		Timeout:       o.timeout,
		Version:       version,
		Log:           log,
		Progress:      progressWriter(o.quiet || o.progress == "never", o.progress == "always", stderr),
		Shard:         shard,
		ProfileSource: source,
	}
	if o.count > 1 || o.untilFail {
		return runCount(ctx, o, ho, stdout, stderr)
	}
	res, err := harness.Run(ctx, ho)
	if res != nil {
		write, ferr := report.RunFormats.Lookup(o.format) // known: o.check
		if ferr == nil {
			ferr = write(stdout, res, report.FormatOptions{Width: tableWidth(o.wide, stdout)})
		}
		if ferr != nil {
			fmt.Fprintf(stderr, "collide: %s: %v\n", o.format, ferr)
		}
		fmt.Fprintf(stderr, "run folder: %s\n", out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide:", err)
		if res == nil {
			return harness.ErrorExitCode(err)
		}
	}
	return res.ExitCode // for a refused profile, 2 as ErrorExitCode says
}
