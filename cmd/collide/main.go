// Command collide is a chaos load-testing harness that finds race conditions
// in web services: it fires concurrent bursts at a service, breaks the network
// between the client, the service and its database, and then proves from the
// database whether the service kept its promises.
//
// Each subcommand lives in its own file; only main exits.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/collide-dev/collide/harness"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name  string
	usage string
	run   func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run a profile: attack, break the network, check invariants", cmdRun},
		{"audit", "run a suite of profiles and write the concurrency audit report", cmdAudit},
		{"validate", "check profiles without running them", cmdValidate},
		{"list", "list the built-in profiles", cmdList},
		{"schema", "print the JSON Schema of the profile format", cmdSchema},
		{"demo", "serve the built-in demo service alone", cmdDemo},
		{"report", "render a run as table, markdown, junit or html", cmdReport},
		{"compare", "compare runs side by side and flag regressions", cmdCompare},
		{"history", "list the runs below a folder, oldest first", cmdHistory},
		{"clean", "remove toxiproxy proxies left by killed runs", cmdClean},
		{"version", "print collide's version", cmdVersion},
	}
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal stops the run gracefully: the attack ends, toxics
		// are removed, a partial result is written. A second one removes the
		// toxics and exits at once.
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\ncollide: %s: stopping; toxics will be removed (signal again to exit now)\n", s)
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "collide: second signal: removing toxics and exiting")
		if err := harness.Abort(5 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "collide:", err)
		}
		os.Exit(harness.ExitSignal)
	}()
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "collide: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: collide <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, "\nexit codes: 0 pass, 1 invariant failed, 2 usage or profile error, 3 environment error, 4 inconclusive")
}

func cmdVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "collide", version)
	return 0
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint([]string(*m)) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
