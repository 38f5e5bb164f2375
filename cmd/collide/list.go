package main

import (
	"context"
	"flag"
	"io"

	"github.com/olekukonko/tablewriter"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

func cmdList(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	t := tablewriter.NewWriter(stdout)
	t.Header("Profile", "What it proves")
	for _, b := range profiles.Builtins() {
		if err := t.Append([]string{b.Name, b.About}); err != nil {
			return harness.ExitEnv
		}
	}
	if err := t.Render(); err != nil {
		return harness.ExitEnv
	}
	return 0
}
