package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var sets multiFlag
	var connect, allowRemote bool
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&sets, "set", "override a profile field before validating (repeatable)")
	fs.BoolVar(&connect, "connect", false, "also prepare every invariant query on the profile's database (a url target's), without running it")
	fs.BoolVar(&allowRemote, "allow-remote", false, "with -connect, permit a database outside loopback")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide validate [-connect] [-set k=v] PROFILE.yaml|BUILTIN ...")
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
			code = max(code, harness.ExitUsage)
			continue
		}
		note := ""
		if connect {
			skipped, err := harness.CheckQueries(ctx, p, allowRemote)
			if err != nil {
				fmt.Fprintln(stderr, err)
				code = max(code, harness.ErrorExitCode(err))
				continue
			}
			note = ", queries prepared on the database"
			if skipped != "" {
				note = ", queries not prepared: " + skipped
			}
		}
		fmt.Fprintf(stdout, "ok  %s (%s%s)\n", path, p.Name, note)
	}
	return code
}
