package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/coordinate"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/stacks"
)

// coordinateOptions are the flags of `collide coordinate`, in its three
// modes: serve (the default), -wait URL and -join URL.
type coordinateOptions struct {
	listen       string
	shards       int
	startDelay   time.Duration
	results      string
	runGroup     string
	allowRemote  bool
	exitWhenDone bool

	wait    string
	join    string
	shard   int
	out     string
	samples int
	timeout time.Duration
}

// check returns what is wrong with the options and arguments, or "".
func (o *coordinateOptions) check(ctx context.Context, args []string) string {
	switch {
	case o.wait != "" && o.join != "":
		return "-wait and -join are two modes: give one"
	case o.timeout <= 0:
		return "-timeout must be positive"
	case o.wait != "":
		if len(args) != 0 {
			return fmt.Sprintf("-wait takes no argument, got %q", args[0])
		}
		return checkURL("-wait", o.wait)
	case o.join != "":
		switch {
		case len(args) == 0 || args[0] != "run":
			return "-join needs the run command after --: collide coordinate -join URL -shard I -- run PROFILE [flags]"
		case o.shard < 0:
			return "-shard must be an index 0 … N−1"
		case o.out == "":
			return "-out must name the run folder to upload"
		case slices.ContainsFunc(args[1:], func(a string) bool {
			return flagNamed(a, "out", "shard", "start-at", "clock-offset", "clock-bound", "run-group")
		}):
			return "-join sets the run's -out, -shard, -start-at, -clock-offset, -clock-bound and -run-group itself: leave them out of the run's flags"
		}
		return checkURL("-join", o.join)
	}
	if len(args) != 0 {
		return fmt.Sprintf("takes no argument, got %q", args[0])
	}
	if o.shards < 1 || o.shards > coordinate.MaxShards {
		return fmt.Sprintf("-shards must be 1 … %d", coordinate.MaxShards)
	}
	if o.startDelay < 0 {
		return "-start-delay must not be negative"
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Sprintf("-listen %q: %v", o.listen, err)
	}
	if !o.allowRemote {
		if err := stacks.CheckLoopback(ctx, "listen address", host); err != nil {
			return fmt.Sprintf("-listen %s is not on loopback: add -allow-remote to serve other hosts", o.listen)
		}
	}
	return ""
}

// flagNamed reports whether arg is one of the flags names (-name, --name,
// -name=v).
func flagNamed(arg string, names ...string) bool {
	if !strings.HasPrefix(arg, "-") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return slices.Contains(names, name)
}

func checkURL(flagName, u string) string {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Sprintf("%s %q: want the coordinator's http:// URL", flagName, u)
	}
	return ""
}

func cmdCoordinate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o coordinateOptions
	fs := flag.NewFlagSet("coordinate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:7070", "address to serve on")
	fs.IntVar(&o.shards, "shards", 0, "number of shards N of the run (indexes 0 … N−1)")
	fs.DurationVar(&o.startDelay, "start-delay", 10*time.Second, "the run starts this long after the first shard asks")
	fs.StringVar(&o.results, "results", "", "folder that receives each shard's run folder as shard-I/ (empty: uploads refused)")
	fs.StringVar(&o.runGroup, "run-group", "", "name of the run all shards belong to (default: random)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a listen address outside loopback")
	fs.BoolVar(&o.exitWhenDone, "exit-when-done", false, "exit 0 once every shard has uploaded")
	fs.StringVar(&o.wait, "wait", "", "wait mode: poll the coordinator at this URL until every shard has uploaded")
	fs.StringVar(&o.join, "join", "", "join mode: as shard -shard of the coordinator at this URL, run the command after -- and upload -out")
	fs.IntVar(&o.shard, "shard", -1, "join mode: this shard's index 0 … N−1")
	fs.StringVar(&o.out, "out", "", "join mode: the run folder to write and upload")
	fs.IntVar(&o.samples, "samples", coordinate.DefaultSamples, "join mode: clock exchanges; the one of smallest round trip is kept")
	fs.DurationVar(&o.timeout, "timeout", time.Hour, "wait and join modes: give up after this long")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: collide coordinate -shards N [-listen ADDR] [-start-delay D] [-results DIR] [-exit-when-done]")
		fmt.Fprintln(w, "       collide coordinate -wait URL [-timeout D]")
		fmt.Fprintln(w, "       collide coordinate -join URL -shard I -out DIR -- run PROFILE [run flags]")
		fmt.Fprintln(w, "\nServes the coordinator of a sharded run: one start time for every shard")
		fmt.Fprintln(w, "(GET /start?shard=I), a clock exchange (GET /clock), the shards' run folders")
		fmt.Fprintln(w, "(PUT /results/I, a tar stream, into DIR/shard-I/) and GET /status.")
		fmt.Fprintln(w, "-wait exits 0 once every shard has uploaded (before `collide merge DIR/shard-*`).")
		fmt.Fprintln(w, "-join asks the start time, measures the clock offset, runs `collide run` with")
		fmt.Fprintln(w, "-shard I/N -start-at -clock-offset -clock-bound -run-group -out DIR added, and")
		fmt.Fprintln(w, "uploads DIR; it exits 0 when the run ended with a verdict (pass, fail or")
		fmt.Fprintln(w, "inconclusive: the merge decides) and its folder was uploaded.")
		fmt.Fprintln(w, "Exit: 0 done, 2 usage, 3 the coordinator unreachable, an upload failed or timed out.")
		fmt.Fprintln(w)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if msg := o.check(ctx, fs.Args()); msg != "" {
		fmt.Fprintln(stderr, "collide coordinate:", msg)
		return harness.ExitUsage
	}
	switch {
	case o.wait != "":
		return coordinateWait(ctx, o, stdout, stderr)
	case o.join != "":
		return coordinateJoin(ctx, o, fs.Args(), stdout, stderr)
	}
	return coordinateServe(ctx, o, stdout, stderr)
}

func coordinateServe(ctx context.Context, o coordinateOptions, stdout, stderr io.Writer) int {
	s, err := coordinate.NewServer(coordinate.Config{Shards: o.shards, StartDelay: o.startDelay, ResultsDir: o.results, RunGroup: o.runGroup})
	if err != nil {
		fmt.Fprintln(stderr, "collide coordinate:", err)
		return harness.ExitEnv
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintln(stderr, "collide coordinate:", err)
		return harness.ExitEnv
	}
	srv := s.NewHTTPServer()
	fmt.Fprintf(stdout, "coordinator of %d shards (run group %s) on http://%s — Ctrl-C to stop\n", o.shards, s.Status().RunGroup, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var done <-chan struct{}
	if o.exitWhenDone {
		done = s.Done()
	}
	shutdown := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	select {
	case <-ctx.Done():
		shutdown()
		return 0
	case <-done:
		shutdown() // lets the last upload's reply go out
		fmt.Fprintf(stdout, "every shard uploaded to %s\n", o.results)
		return 0
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "collide coordinate:", err)
			return harness.ExitEnv
		}
		return 0
	}
}

func coordinateWait(ctx context.Context, o coordinateOptions, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	st, err := (&coordinate.Client{URL: o.wait}).Wait(ctx, 2*time.Second)
	if err != nil {
		fmt.Fprintln(stderr, "collide coordinate:", err)
		return harness.ExitEnv
	}
	fmt.Fprintf(stdout, "every shard of %d uploaded (run group %s)\n", st.Shards, st.RunGroup)
	return 0
}

// joinDispatch runs a joined shard's command line instead of dispatch
// when set: tests set it.
var joinDispatch func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// joinRunArgs is the run command line of a joined shard: the user's run
// arguments with the shard, start and clock flags and the run folder
// added. offset is what coordinate.Measure gives, the coordinator's clock
// minus the local one; startAt is in the coordinator's clock. The run
// takes the opposite convention (-clock-offset is its clock minus the
// reference) and waits for -start-at on its own clock, so both are
// turned around here: the local start is startAt − offset.
func joinRunArgs(runArgs []string, shard, shards int, startAt time.Time, offset, bound time.Duration, runGroup, out string) []string {
	return append(slices.Clone(runArgs),
		"--shard", strconv.Itoa(shard)+"/"+strconv.Itoa(shards),
		"--start-at", startAt.Add(-offset).UTC().Format(time.RFC3339Nano),
		"--clock-offset", (-offset).String(),
		"--clock-bound", bound.String(),
		"--run-group", runGroup,
		"--out", out)
}

func coordinateJoin(ctx context.Context, o coordinateOptions, runArgs []string, stdout, stderr io.Writer) int {
	c := &coordinate.Client{URL: o.join}
	tctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// The shard pods may start before the coordinator answers: ask again
	// each second until it does or -timeout ends.
	st, err := c.Status(tctx)
	for err != nil && tctx.Err() == nil {
		select {
		case <-tctx.Done():
		case <-time.After(time.Second):
			st, err = c.Status(tctx)
		}
	}
	if err == nil && o.shard >= st.Shards {
		fmt.Fprintf(stderr, "collide coordinate: -shard %d: the coordinator has %d shards (0 … %d)\n", o.shard, st.Shards, st.Shards-1)
		return harness.ExitUsage
	}
	var startAt time.Time
	var group string
	if err == nil {
		startAt, group, err = c.Start(tctx, o.shard)
	}
	var offset, bound time.Duration
	if err == nil {
		offset, bound, err = c.Measure(tctx, o.samples)
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide coordinate:", err)
		return harness.ExitEnv
	}
	fmt.Fprintf(stdout, "shard %d/%d of run group %s starts at %s (coordinator clock; local offset %s ± %s)\n",
		o.shard, st.Shards, group, startAt.UTC().Format(time.RFC3339Nano), offset, bound)
	run := joinDispatch
	if run == nil {
		run = dispatch
	}
	code := run(ctx, joinRunArgs(runArgs, o.shard, st.Shards, startAt, offset, bound, group, o.out), stdout, stderr)
	if _, err := os.Stat(o.out); err != nil {
		fmt.Fprintf(stderr, "collide coordinate: the run (exit %d) left no folder %s to upload\n", code, o.out)
		if isVerdict(code) {
			return harness.ExitEnv
		}
		return code
	}
	uctx, ucancel := context.WithTimeout(ctx, o.timeout)
	defer ucancel()
	if err := c.Upload(uctx, o.shard, o.out); err != nil {
		fmt.Fprintln(stderr, "collide coordinate:", err)
		return harness.ExitEnv
	}
	fmt.Fprintf(stdout, "shard %d uploaded %s (run exit %d)\n", o.shard, o.out, code)
	if isVerdict(code) {
		return 0 // the merge of every shard decides
	}
	return code
}

// isVerdict reports whether a run's exit code is a verdict: pass, fail or
// inconclusive.
func isVerdict(code int) bool {
	return code == harness.ExitPass || code == harness.ExitFail || code == harness.ExitUnknown
}
