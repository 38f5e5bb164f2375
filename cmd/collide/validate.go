package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

func cmdValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	var sets multiFlag
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&sets, "set", "override a profile field before validating (repeatable)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide validate [-set k=v] PROFILE.yaml|BUILTIN ...")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "collide validate: name a profile, a file or a built-in (collide list); collide validate -h shows the flags")
		return harness.ExitUsage
	}
	code := 0
	for _, path := range fs.Args() {
		p, err := profiles.Load(path, sets)
		if err == nil {
			err = harness.Validate(p)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = harness.ExitUsage
			continue
		}
		fmt.Fprintf(stdout, "ok  %s (%s)\n", path, p.Name)
	}
	return code
}
