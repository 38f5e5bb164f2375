// Command collide is a chaos load-testing harness that finds race conditions
// in web services: it fires concurrent bursts at a service, breaks the network
// between the client, the service and its database, and then proves from the
// database whether the service kept its promises.
//
// Each subcommand lives in its own file; only main exits.
package main

import (
	"context"
	"flag"
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

// command is one subcommand: its name, a one-line description and the
// function that runs it. Its arguments complete as argCompletions says.
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
		{"init", "write a commented starter profile NAME.yaml for your own service", cmdInit},
		{"list", "list the built-in profiles", cmdList},
		{"schema", "print the JSON Schema of the profile format", cmdSchema},
		{"demo", "serve the built-in demo service alone", cmdDemo},
		{"report", "render a run as table, markdown, junit or html", cmdReport},
		{"compare", "compare runs side by side and flag regressions", cmdCompare},
		{"merge", "check the shards of a sharded run (run -shard i/N) together", cmdMerge},
		{"history", "list the runs below a folder, oldest first", cmdHistory},
		{"discover", "find race candidates from the SQL each request sends; write profiles that prove them", cmdDiscover},
		{"clean", "remove toxiproxy proxies left by killed runs", cmdClean},
		{"coordinate", "serve, wait for or join the coordinator of a sharded run", cmdCoordinate},
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

// dispatch runs the command line args and returns the exit code; only main
// exits. Tests call it in-process.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return dispatchCobra(ctx, args, stdout, stderr)
}

// usage is the top-level help: `collide help`, `collide -h`, `collide --help`.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: collide <command> [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.usage)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "completion", "print the shell completion script: bash, zsh, fish or powershell")
	fmt.Fprintf(w, "  %-10s %s\n", "help", "help COMMAND prints the command's flags (as COMMAND -h does)")
	fmt.Fprintln(w, "\nFlags may come before or after the arguments; -flag and --flag are the same.")
	fmt.Fprintln(w, "\nexit codes: 0 pass, 1 invariant failed, 2 usage or profile error, 3 environment error, 4 inconclusive, 130 interrupted")
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "collide version: takes no argument")
		return harness.ExitUsage
	}
	fmt.Fprintln(stdout, "collide", version)
	return 0
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint([]string(*m)) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Type names the flag's value in pflag's help and completion.
func (m *multiFlag) Type() string { return "stringArray" }
