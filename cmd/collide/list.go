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
	format := fs.String("format", "table", "output: table or json")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		fmt.Fprintln(stderr, "collide list:", err)
		return harness.ExitUsage
	}
	var err error
	if *format == "json" {
		err = report.ListJSON(stdout, profiles.Builtins())
	} else {
		err = report.ListTableWidth(stdout, profiles.Builtins(), tableWidth(*wide, stdout))
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide list:", err)
		return harness.ExitEnv
	}
	return 0
}
