package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/demo"
)

// TestFlagsAnywhere: flags after the positionals, and both -flag and
// --flag, reach the command (here caught by each command's own option
// check, before any I/O, so the test needs no run).
func TestFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"run: flag after the profile", []string{"run", "counter", "-format", "xml"}, 2, `-format "xml"`},
		{"run: --flag after the profile", []string{"run", "counter", "--format", "xml"}, 2, `-format "xml"`},
		{"run: -flag=value", []string{"run", "counter", "-format=xml"}, 2, `-format "xml"`},
		{"run: --flag=value before", []string{"run", "--format=xml", "counter"}, 2, `-format "xml"`},
		{"run: -set after the profile is applied", []string{"run", "counter", "-set", "target.demo.mood=safe"}, 2, "target.demo.mood"},
		{"run: --set after the profile is applied", []string{"run", "counter", "--set", "target.demo.mood=safe"}, 2, "target.demo.mood"},
		{"report: flag after the run", []string{"report", "no-such-run", "-format", "pdf"}, 2, `-format "pdf"`},
		{"report: --flag after the run", []string{"report", "no-such-run", "--format", "pdf"}, 2, `-format "pdf"`},
		{"compare: flags after the runs", []string{"compare", "a", "b", "-format", "xml", "-fail-on-regression"}, 2, `-format "xml"`},
		{"compare: --flags after the runs", []string{"compare", "a", "b", "--fail-on-regression", "--format", "xml"}, 2, `-format "xml"`},
		{"validate: -set after the profile", []string{"validate", "counter", "-set", "operations[0].rate=fast"}, 2, "operations[0].rate"},
		{"history: flag after the folder", []string{"history", "runs", "-format", "xml"}, 2, `-format "xml"`},
		{"single-letter shorthand after", []string{"run", "counter", "-q", "-format", "xml"}, 2, `-format "xml"`},
		{"bad value is one line", []string{"run", "counter", "-timeout", "soon"}, 2, `invalid argument "soon" for "-timeout"`},
		{"missing value", []string{"run", "counter", "-set"}, 2, "flag needs an argument: -set"},
		{"-- ends the flags", []string{"validate", "--", "-set"}, 2, "-set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("stderr lacks %q:\n%s", tc.inStderr, stderr)
			}
			if strings.Contains(stderr, "usage:") && !strings.HasPrefix(stderr, "collide") {
				t.Fatalf("a usage screen without the line saying what was wrong:\n%s", stderr)
			}
		})
	}
}

// TestFlagsReachTheCommand: a flag after the positional takes effect (a
// successful command, not only an error path).
func TestFlagsReachTheCommand(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		name, file, url string
		args            []string
	}{
		{"-url after the name", "a.yaml", "http://127.0.0.1:9999", []string{"init", "a", "-url", "http://127.0.0.1:9999"}},
		{"--url=… before the name", "b.yaml", "http://127.0.0.1:9998", []string{"init", "--url=http://127.0.0.1:9998", "b"}},
		{"--url after the name", "c.yaml", "http://127.0.0.1:9997", []string{"init", "c", "--url", "http://127.0.0.1:9997"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			b, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "url: "+tc.url) {
				t.Fatalf("the -url flag was not applied:\n%s", b)
			}
		})
	}
}

// TestHelpForms: every way of asking for help prints the same text to
// stdout, nothing to stderr, and exits 0.
func TestHelpForms(t *testing.T) {
	for _, cmd := range []string{"run", "report", "compare", "validate", "init", "list", "history", "audit", "demo", "clean", "version", "schema", "discover"} {
		t.Run(cmd, func(t *testing.T) {
			var want string
			for i, args := range [][]string{
				{cmd, "-h"}, {cmd, "--help"}, {cmd, "-help"}, {"help", cmd}, {cmd, "counter", "--help"},
			} {
				code, stdout, stderr := collide(t, args...)
				if code != 0 || stderr != "" {
					t.Fatalf("%v: exit %d, stderr %q; want 0 and nothing", args, code, stderr)
				}
				if !strings.HasPrefix(stdout, "usage: collide "+cmd) {
					t.Fatalf("%v: stdout does not start with the usage line:\n%s", args, stdout)
				}
				if i == 0 {
					want = stdout
				} else if stdout != want {
					t.Fatalf("%v prints other help than %s -h:\n%s\nvs\n%s", args, cmd, stdout, want)
				}
			}
		})
	}
	t.Run("completion", func(t *testing.T) {
		for _, args := range [][]string{{"completion", "-h"}, {"completion", "--help"}, {"help", "completion"}} {
			code, stdout, stderr := collide(t, args...)
			if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: collide completion") {
				t.Fatalf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
			}
		}
	})
	t.Run("top level", func(t *testing.T) {
		var want string
		for i, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}} {
			code, stdout, stderr := collide(t, args...)
			if code != 0 || stderr != "" || !strings.Contains(stdout, "commands:") {
				t.Fatalf("%v: exit %d, stderr %q, stdout:\n%s", args, code, stderr, stdout)
			}
			if i == 0 {
				want = stdout
			} else if stdout != want {
				t.Fatalf("%v prints other help than help", args)
			}
		}
	})
}

// TestUnknownUsage: an unknown command or flag exits 2 with one line on
// stderr naming it and the nearest match; nothing on stdout.
func TestUnknownUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		line string
	}{
		{"command typo", []string{"rn", "counter"}, `collide: unknown command "rn"; did you mean "run"?`},
		{"command typo 2", []string{"comapre", "a", "b"}, `collide: unknown command "comapre"; did you mean "compare"?`},
		{"command far from any", []string{"frobnicate"}, `collide: unknown command "frobnicate"; collide help lists the commands`},
		{"help of an unknown command", []string{"help", "reprot"}, `collide help: unknown command "reprot"; did you mean "report"?`},
		{"flag typo", []string{"run", "counter", "-sett", "x=1"}, "collide run: unknown flag -sett; did you mean -set?"},
		{"--flag typo", []string{"report", "--formt", "html", "runs/x"}, "collide report: unknown flag --formt; did you mean -format?"},
		{"flag typo after positionals", []string{"compare", "a", "b", "-fail-on-regresion"}, "collide compare: unknown flag -fail-on-regresion; did you mean -fail-on-regression?"},
		{"flag far from any", []string{"list", "--verbose"}, "collide list: unknown flag --verbose; see -h for the flags"},
		{"flag before the command", []string{"-q", "run"}, "collide: unknown flag -q before the command"},
		{"no command", nil, "collide: name a command"},
		{"unknown completion shell", []string{"completion", "bsh"}, `collide completion: unknown shell "bsh"; did you mean "bash"?`},
		{"completion without a shell", []string{"completion"}, "collide completion: name a shell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, tc.line) {
				t.Fatalf("first line of stderr = %q, want %q", first, tc.line)
			}
			if len(tc.args) > 0 && strings.Count(stderr, "\n") != 1 {
				t.Fatalf("want one line on stderr, got:\n%s", stderr)
			}
			if stdout != "" {
				t.Fatalf("stdout: %q", stdout)
			}
		})
	}
}

// TestCompletion: the scripts are generated for each shell, and profile
// arguments complete to the built-ins and the working directory's YAML.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := collide(t, "completion", shell)
			if code != 0 || !strings.Contains(stdout, "collide") || !strings.Contains(stdout, "__complete") {
				t.Fatalf("exit %d, stderr %q, script:\n%.300s", code, stderr, stdout)
			}
		})
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for _, f := range []string{"shop.yaml", "nightly.yml", "notes.txt"} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		notWant []string
	}{
		{"run: built-ins and yaml files", []string{"__complete", "run", ""}, append(builtinNames(t), "shop.yaml", "nightly.yml"), []string{"notes.txt"}},
		{"run: prefix", []string{"__complete", "run", "co"}, []string{"counter", "collection-add"}, []string{"oversell", "shop.yaml"}},
		{"run after a flag", []string{"__complete", "run", "-q", "sh"}, []string{"shop.yaml"}, []string{"counter"}},
		{"validate", []string{"__complete", "validate", "s"}, []string{"shop.yaml"}, nil},
		{"audit", []string{"__complete", "audit", "lo"}, []string{"locks"}, nil},
		{"run's flags", []string{"__complete", "run", "counter", "--s"}, []string{"--set", "--seed"}, []string{"--format", "--out"}},
		{"single-dash flag", []string{"__complete", "report", "-form"}, []string{"--format"}, nil},
		{"commands", []string{"__complete", ""}, []string{"run", "init", "completion", "compare"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			got := map[string]bool{}
			for _, l := range strings.Split(stdout, "\n") {
				name, _, _ := strings.Cut(l, "\t")
				got[name] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("completion lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.notWant {
				if got[w] {
					t.Errorf("completion offers %q:\n%s", w, stdout)
				}
			}
		})
	}
}

// TestInit: collide init writes a starter profile that collide validate
// accepts, refuses to overwrite, and rejects bad names before writing.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := collide(t, "init", "shop")
	if code != 0 || !strings.Contains(stdout, "wrote shop.yaml") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile("shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: shop", "url: http://127.0.0.1:8080", "burst:", "invariants:", "docs/profiles.md"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("starter profile lacks %q", want)
		}
	}
	if code, stdout, stderr := collide(t, "validate", "shop.yaml"); code != 0 {
		t.Fatalf("collide validate shop.yaml: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		inStderr string
	}{
		{"refuses to overwrite", []string{"init", "shop"}, "shop.yaml exists; not overwritten"},
		{"refuses to overwrite NAME.yaml", []string{"init", "shop.yaml"}, "shop.yaml exists"},
		{"bad name", []string{"init", "Shop Front"}, "lowercase letters"},
		{"a path", []string{"init", "../x"}, "not a path"},
		{"no name", []string{"init"}, "name the profile"},
		{"bad url", []string{"init", "cart", "-url", "127.0.0.1:8080"}, "-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := collide(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.inStderr)
			}
		})
	}
	after, err := os.ReadFile("shop.yaml")
	if err != nil || string(after) != string(b) {
		t.Fatalf("shop.yaml changed (%v)", err)
	}
	if _, err := os.Stat("cart.yaml"); err == nil {
		t.Fatal("cart.yaml written despite a bad -url")
	}
}

// TestInitProfileRuns: the starter profile, as written, runs against the
// demo service served as `collide demo` serves it (its URL, its
// collide-demo.db): the racy counter fails it (exit 1), the safe one
// passes it (exit 0). A racy run that missed its race is repeated at most
// twice; a safe run never.
func TestInitProfileRuns(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     string
		code     int
		attempts int
	}{
		{"racy demo fails it", "racy", 1, 3},
		{"safe demo passes it", "safe", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			svc, err := demo.Open(context.Background(), demo.Config{Mode: tc.mode, Driver: "sqlite", DSN: "collide-demo.db"})
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := svc.HTTPServer()
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			if code, stdout, stderr := collide(t, "init", "my-profile", "-url", "http://"+ln.Addr().String()); code != 0 {
				t.Fatalf("init: exit %d\n%s\n%s", code, stdout, stderr)
			}
			var code int
			var stdout, stderr string
			for i := 0; i < tc.attempts; i++ {
				code, stdout, stderr = collide(t, "run", "my-profile.yaml", "-q", "-out", t.TempDir())
				if code == tc.code {
					return
				}
			}
			t.Fatalf("collide run my-profile.yaml against the %s demo: exit %d, want %d\n%s\n%s", tc.mode, code, tc.code, stdout, stderr)
		})
	}
}

// TestUnknownFormat: every command that writes a document looks -format up
// in its kind's registry; an unknown name is a usage error (exit 2) listing
// the known ones, before anything runs or is read.
func TestUnknownFormat(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"run", []string{"run", "-format", "xml", "counter"}, `collide run: -format "xml": want table, json or none`},
		{"run -count", []string{"run", "-count", "2", "-format", "xml", "counter"}, `collide run: -format "xml": want table, json or none`},
		{"report", []string{"report", "-format", "xml", dir}, `collide report: -format "xml": want table, markdown, junit or html`},
		{"compare", []string{"compare", "-format", "xml", dir, dir}, `collide compare: -format "xml": want table, markdown or json`},
		{"history", []string{"history", "-format", "xml", dir}, `collide history: -format "xml": want table, markdown or json`},
		{"list", []string{"list", "-format", "xml"}, `collide list: -format "xml": want table or json`},
		{"audit", []string{"audit", "-out", filepath.Join(dir, "audit"), "-format", "xml", "counter"}, `collide audit: -format "xml": want table, markdown or none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := collide(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstderr:\n%s", code, stderr)
			}
			if first, _, _ := strings.Cut(stderr, "\n"); first != tc.want {
				t.Fatalf("first line of stderr = %q, want %q", first, tc.want)
			}
			if stdout != "" {
				t.Fatalf("stdout: %q", stdout)
			}
		})
	}
}
