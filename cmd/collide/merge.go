package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/report"
)

// cmdMerge is `collide merge [--partial] [--out DIR] DIR…`: the shards of a
// sharded run checked together (harness.Merge), written as a run folder
// that report and compare read.
func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		out, format       string
		partial, quiet    bool
		allowRemote, wide bool
		sets              multiFlag
	)
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&out, "out", "", "result folder (default runs/<time>-<profile>-merged)")
	fs.BoolVar(&partial, "partial", false, "merge even with shards missing: marked partial, never a pass (a pass is inconclusive)")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow a database outside loopback")
	fs.StringVar(&format, "format", "table", "output: "+report.OrList(report.RunFormats.Names()))
	fs.Var(&sets, "set", "the shards' -set overrides, when one held a secret (default: those their results recorded, redacted)")
	fs.BoolVar(&quiet, "q", false, "no progress messages on stderr")
	fs.BoolVar(&wide, "wide", false, wideUsage)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide merge [flags] SHARD_RUN_FOLDER…")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "collide merge: name the shards' run folders")
		return harness.ExitUsage
	}
	write, err := report.RunFormats.Lookup(format)
	if err != nil {
		fmt.Fprintln(stderr, "collide merge: -format:", err)
		return harness.ExitUsage
	}
	if out == "" {
		out = filepath.Join("runs", time.Now().Format("20060102-150405")+"-merged")
	}
	var log io.Writer = stderr
	if quiet {
		log = io.Discard
	}
	res, err := harness.Merge(ctx, harness.MergeOptions{Dirs: fs.Args(), OutDir: out, Partial: partial, Overrides: sets, AllowRemote: allowRemote, Version: version, Log: log})
	if res != nil {
		if ferr := write(stdout, res, report.FormatOptions{Width: tableWidth(wide, stdout)}); ferr != nil {
			fmt.Fprintf(stderr, "collide: %s: %v\n", format, ferr)
		}
		fmt.Fprintf(stderr, "result folder: %s\n", out)
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide merge:", err)
		if res == nil {
			return harness.ErrorExitCode(err)
		}
	}
	return res.ExitCode
}
