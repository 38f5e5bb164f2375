package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wide := fs.Bool("wide", false, wideUsage)
	format := fs.String("format", "table", "output: "+report.OrList(report.ListFormats.Names()))
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	write, err := report.ListFormats.Lookup(*format)
	if err != nil {
		fmt.Fprintln(stderr, "collide list:", err)
		return harness.ExitUsage
	}
	if err := write(stdout, profiles.Builtins(), report.FormatOptions{Width: tableWidth(*wide, stdout)}); err != nil {
		fmt.Fprintln(stderr, "collide list:", err)
		return harness.ExitEnv
	}
	return 0
}
