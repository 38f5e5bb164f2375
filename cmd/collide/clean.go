package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// cleanOptions are the flags of `collide clean`.
type cleanOptions struct {
	toxiproxy string
	dryRun    bool
	force     bool
	timeout   time.Duration
}

// check returns what is wrong with the options and arguments, or "".
func (o *cleanOptions) check(args []string) string {
	switch {
	case len(args) != 0:
		return fmt.Sprintf("takes no argument, got %q; the server is -toxiproxy URL", args[0])
	case o.timeout <= 0:
		return "-timeout must be positive"
	case o.toxiproxy == "":
		return "-toxiproxy must name the server's API URL"
	}
	return ""
}

// defaultToxiproxyAPI is where toxiproxy-server listens unless told
// otherwise.
const defaultToxiproxyAPI = "http://127.0.0.1:8474"

func cmdClean(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o cleanOptions
	fset := flag.NewFlagSet("clean", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.toxiproxy, "toxiproxy", defaultToxiproxyAPI, "URL of the toxiproxy-server API to clean")
	fset.BoolVar(&o.dryRun, "n", false, "dry run: list the leftovers, remove nothing")
	fset.BoolVar(&o.force, "force", false, "also remove collide proxies of other hosts, and owner-less ones (never a live process's of this host)")
	fset.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: collide clean [-toxiproxy URL] [-n] [-force]")
		fmt.Fprintln(fset.Output(), "\nRemoves the toxiproxy proxies (and so their toxics and ports) left by collide runs")
		fmt.Fprintln(fset.Output(), "whose process is gone (killed with -9, crashed): one line per proxy.")
		fmt.Fprintln(fset.Output(), "A live run's proxies are never removed; another host's only with -force.")
		fmt.Fprintln(fset.Output(), "Exit: 0 done (also when nothing was left), 2 usage, 3 the server could not be listed or a proxy not removed.")
		fmt.Fprintln(fset.Output())
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout, stderr); done {
		return code
	}
	if msg := o.check(fset.Args()); msg != "" {
		fmt.Fprintln(stderr, "collide clean:", msg)
		return harness.ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	ls, err := chaos.New(o.toxiproxy, "clean").CleanLeftovers(ctx, chaos.CleanOptions{DryRun: o.dryRun, Force: o.force})
	for _, l := range ls {
		fmt.Fprintln(stdout, l)
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide clean:", profiles.RedactText(err.Error()))
		return harness.ExitEnv
	}
	if len(ls) == 0 {
		fmt.Fprintf(stdout, "no leftover proxies on %s\n", profiles.RedactText(o.toxiproxy))
	}
	return harness.ExitPass
}
