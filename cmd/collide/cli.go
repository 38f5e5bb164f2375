package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
)

// The command tree is cobra's (help, "did you mean", shell completion) and
// the flags are parsed by pflag: flags and positionals in any order, --flag
// and -flag alike. Each subcommand stays a func(ctx, args, stdout, stderr)
// int that declares its flags on a standard *flag.FlagSet and hands it to
// parseFlags, which parses the arguments with pflag.

// errHelp is returned by parseArgs when the arguments ask for help.
var errHelp = errors.New("help requested")

// usageError is a one-line usage error: the caller prints it and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseFlags parses args into fs with pflag: flags may come before, between
// or after the positionals, and a long flag may be written -name or --name.
// On success fs.Args() holds the positionals and done is false. When the
// arguments ask for help (-h, -help, --help) it prints the command's usage
// to stdout and returns 0, done; on a bad flag it prints one line naming it
// (with the nearest flag when there is one) to stderr and returns 2, done.
// Nothing else is printed: a command's own checks come after.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	pos, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, errHelp):
		printHelp(fs, stdout, stderr)
		return 0, true
	case err != nil:
		fmt.Fprintf(stderr, "collide %s: %v\n", fs.Name(), err)
		return harness.ExitUsage, true
	}
	// Hand the positionals to the standard set too, so that fs.Args(),
	// fs.NArg() and fs.Arg(i) work as the command expects.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(append([]string{"--"}, pos...)); err != nil {
		fmt.Fprintf(stderr, "collide %s: %v\n", fs.Name(), err)
		return harness.ExitUsage, true
	}
	fs.SetOutput(stderr)
	return 0, false
}

// parseArgs parses args into fs's flags with pflag and returns the
// positionals; errHelp when they ask for help, a *usageError otherwise.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pf := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	pf.SetOutput(io.Discard)
	pf.Usage = func() {}
	pf.SetInterspersed(true)
	pf.AddGoFlagSet(fs)
	norm, err := normalizeArgs(pf, args)
	if err != nil {
		return nil, err
	}
	if err := pf.Parse(norm); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{singleDash(err.Error())}
	}
	return pf.Args(), nil
}

// normalizeArgs rewrites the single-dash long flags (-set, -format=html)
// that the docs and users' scripts use into pflag's --set, and checks every
// flag name first so that an unknown one is reported with the nearest
// known name. Single letters (-q, -o, -n) stay shorthands. After "--"
// nothing is touched.
func normalizeArgs(pf *pflag.FlagSet, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			if pf.Lookup(name) == nil {
				return nil, errHelp
			}
		}
		f := pf.Lookup(name)
		if f == nil {
			return nil, unknownFlag(pf, a, name)
		}
		if strings.HasPrefix(a, "--") || len(name) > 1 {
			out = append(out, "--"+strings.TrimLeft(a, "-"))
		} else {
			out = append(out, a)
		}
		if !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++ // the flag's value, whatever it looks like
			out = append(out, args[i])
		}
	}
	return out, nil
}

// unknownFlag is the one-line error for a flag fs does not define.
func unknownFlag(pf *pflag.FlagSet, arg, name string) error {
	var names []string
	pf.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	msg := fmt.Sprintf("unknown flag %s", strings.SplitN(arg, "=", 2)[0])
	if s := nearest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean -%s?", s)
	} else {
		msg += "; see -h for the flags"
	}
	return &usageError{msg}
}

// singleDash shows pflag's "--name" the way the docs write flags.
func singleDash(msg string) string {
	return strings.NewReplacer("\"--", "\"-", " --", " -").Replace(msg)
}

// printHelp prints fs's usage to stdout: the command's own Usage when it
// has one, else a generated one.
func printHelp(fs *flag.FlagSet, stdout, stderr io.Writer) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	defer fs.SetOutput(stderr)
	fs.Usage()
	if !strings.HasPrefix(buf.String(), "Usage of ") { // the command's own
		_, _ = stdout.Write(buf.Bytes())
		return
	}
	fs.SetOutput(stdout)
	fmt.Fprintf(stdout, "usage: collide %s [flags]\n\n%s\n", fs.Name(), about(fs.Name()))
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(stdout)
		fs.PrintDefaults()
	}
}

// about is the one-line description of a command.
func about(name string) string {
	for _, c := range commands() {
		if c.name == name {
			return c.usage
		}
	}
	return ""
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a plausible typo (or s is a prefix of it), else "".
func nearest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if strings.HasPrefix(c, s) && len(s) >= 2 {
			d = min(d, 1)
		}
		if d < bestD || d == bestD && commonPrefix(c, s) > commonPrefix(best, s) {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// commonPrefix is the length of the prefix a and b share: among equally
// near candidates, the one that starts like the typo wins.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// levenshtein is the edit distance between a and b (bytes).
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// rootCommand builds the cobra command tree. Each subcommand's flags are
// parsed by the subcommand itself (parseFlags), so cobra passes its
// arguments through untouched; *code receives its exit code.
func rootCommand(stdout, stderr io.Writer, code *int) *cobra.Command {
	root := &cobra.Command{
		Use:           "collide",
		Short:         "a chaos load-testing harness that finds race conditions in web services",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetHelpFunc(func(*cobra.Command, []string) { usage(stdout) })
	for _, c := range commands() {
		c := c
		sub := &cobra.Command{
			Use:                c.name,
			Short:              c.usage,
			DisableFlagParsing: true,
			RunE: func(cc *cobra.Command, args []string) error {
				*code = c.run(cc.Context(), args, stdout, stderr)
				return nil
			},
			ValidArgsFunction: func(cc *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				if strings.HasPrefix(toComplete, "-") {
					return completeFlags(cc.Context(), c, toComplete), cobra.ShellCompDirectiveNoFileComp
				}
				return completeArgs(c.name)(cc, args, toComplete)
			},
		}
		sub.SetHelpFunc(func(cc *cobra.Command, _ []string) {
			*code = c.run(cc.Context(), []string{"-h"}, stdout, stderr)
		})
		root.AddCommand(sub)
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	root.InitDefaultCompletionCmd()
	return root
}

// completion completes a command's positional arguments.
type completion func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// argCompletions completes the positional arguments of the commands that
// take profiles or run folders; other commands complete nothing.
var argCompletions = map[string]completion{
	"run":      completeProfiles,
	"audit":    completeProfiles,
	"validate": completeProfiles,
	"report":   completeRuns,
	"compare":  completeRuns,
	"history":  completeRuns,
}

// completeArgs is the completion of the named command's arguments.
func completeArgs(name string) completion {
	if c, ok := argCompletions[name]; ok {
		return c
	}
	return completeNothing
}

// completeProfiles completes a profile argument: the built-in profiles and
// the *.yaml and *.yml files of the working directory; a path with a
// folder in it is left to the shell's file completion.
func completeProfiles(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if strings.ContainsRune(toComplete, os.PathSeparator) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var names []string
	for _, b := range profiles.Builtins() {
		if strings.HasPrefix(b.Name, toComplete) {
			names = append(names, b.Name+"\t"+b.About)
		}
	}
	for _, pat := range []string{"*.yaml", "*.yml"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			if strings.HasPrefix(f, toComplete) {
				names = append(names, f)
			}
		}
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}

// flagLine is a flag's line in a command's help (flag.PrintDefaults).
var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9][a-z0-9-]*)`)

// completeFlags completes a flag of c: the flags its help lists, as --name
// (-name works too, but the shells expect the double dash).
func completeFlags(ctx context.Context, c command, toComplete string) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	var help bytes.Buffer
	c.run(ctx, []string{"-h"}, &help, io.Discard)
	var names []string
	for _, m := range flagLine.FindAllStringSubmatch(help.String(), -1) {
		if name := "--" + m[1]; strings.HasPrefix(name, "--"+strings.TrimLeft(toComplete, "-")) {
			names = append(names, name)
		}
	}
	return names
}

// completeRuns completes a run-folder argument with folders.
func completeRuns(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeNothing: the command takes no positional argument.
func completeNothing(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// dispatchCobra runs args through the command tree. Unknown commands and
// root flags are answered before cobra sees them, in one line with the
// nearest command.
func dispatchCobra(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	code := 0
	root := rootCommand(stdout, stderr, &code)
	if len(args) == 0 {
		fmt.Fprintln(stderr, "collide: name a command (collide help lists them)")
		usage(stderr)
		return harness.ExitUsage
	}
	first := args[0]
	switch {
	case first == "-h" || first == "-help" || first == "--help":
		usage(stdout)
		return 0
	case first == "help":
		return helpCommand(ctx, root, args[1:], stdout, stderr)
	case first == "completion":
		if code, done := checkCompletion(args[1:], stdout, stderr); done {
			return code
		}
	case strings.HasPrefix(first, "-"):
		fmt.Fprintf(stderr, "collide: unknown flag %s before the command; flags go after it (collide help lists the commands)\n", first)
		return harness.ExitUsage
	}
	if !knownCommand(root, first) {
		fmt.Fprintln(stderr, "collide: "+unknownCommand(root, first))
		return harness.ExitUsage
	}
	root.SetArgs(args)
	if _, err := root.ExecuteContextC(ctx); err != nil {
		fmt.Fprintln(stderr, "collide:", strings.SplitN(err.Error(), "\n", 2)[0])
		return harness.ExitUsage
	}
	return code
}

// helpCommand answers `collide help [COMMAND]` on stdout: the same text as
// `collide COMMAND -h`.
func helpCommand(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "collide help: name one command")
		return harness.ExitUsage
	}
	if !knownCommand(root, args[0]) || args[0] == "help" {
		fmt.Fprintln(stderr, "collide help: "+unknownCommand(root, args[0]))
		return harness.ExitUsage
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, []string{"-h"}, stdout, stderr)
		}
	}
	c, _ := checkCompletion([]string{"-h"}, stdout, stderr)
	return c
}

// shells are the shells `collide completion` writes a script for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// checkCompletion answers `collide completion` with no shell, an unknown
// shell or -h itself; done is false when cobra should write the script.
func checkCompletion(args []string, stdout, stderr io.Writer) (code int, done bool) {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "collide completion: name a shell: bash, zsh, fish or powershell")
		return harness.ExitUsage, true
	}
	switch a := args[0]; {
	case a == "-h" || a == "-help" || a == "--help":
		fmt.Fprint(stdout, `usage: collide completion bash|zsh|fish|powershell

Prints the shell's completion script: commands, and profile arguments from the
built-in profiles and the *.yaml files of the working directory.

  bash:  source <(collide completion bash)       # in ~/.bashrc (needs bash-completion)
  zsh:   collide completion zsh > "${fpath[1]}/_collide"
  fish:  collide completion fish > ~/.config/fish/completions/collide.fish
`)
		return 0, true
	case slices.Contains(shells, a):
		return 0, false
	default:
		msg := fmt.Sprintf("collide completion: unknown shell %q", a)
		if s := nearest(a, shells); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; want bash, zsh, fish or powershell"
		}
		fmt.Fprintln(stderr, msg)
		return harness.ExitUsage, true
	}
}

// knownCommand reports whether name is a command of root, cobra's own
// (completion, and the hidden __complete the shell scripts call) included.
func knownCommand(root *cobra.Command, name string) bool {
	if name == cobra.ShellCompRequestCmd || name == cobra.ShellCompNoDescRequestCmd {
		return true
	}
	for _, c := range root.Commands() {
		if c.Name() == name {
			return true
		}
	}
	return false
}

// unknownCommand is the one-line error for a command that does not exist.
func unknownCommand(root *cobra.Command, name string) string {
	var names []string
	for _, c := range root.Commands() {
		if !c.Hidden {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := nearest(name, names); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + "; collide help lists the commands"
}
