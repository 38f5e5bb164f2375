package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// cmdSchema prints the JSON Schema of the profile format (generated from
// the Go types; docs/profile.schema.json is a copy), for editors and for
// checking profiles with other tools.
func cmdSchema(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide schema > profile.schema.json")
		fmt.Fprintln(fs.Output(), "prints the JSON Schema (draft 2020-12) of the profile format")
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "collide schema: takes no argument, got %q\n", fs.Arg(0))
		return harness.ExitUsage
	}
	b, err := profiles.JSONSchema()
	if err != nil {
		fmt.Fprintln(stderr, "collide schema:", err)
		return harness.ExitEnv
	}
	if _, err := stdout.Write(b); err != nil {
		return harness.ExitEnv
	}
	return 0
}
