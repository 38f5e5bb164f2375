package doctest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

var (
	all     = flag.Bool("doctest.all", false, "run every document (make doctest); without it, only the fast ones")
	only    = flag.String("doctest.docs", "", "comma-separated documents to run, e.g. README.md,docs/ci.md (overrides -doctest.all)")
	timeout = flag.Duration("doctest.timeout", 180*time.Second, "bound on each command; it gets SIGINT then")
)

// fastDocs run in the default suite (go test ./...): their commands take
// about a minute together on a loaded 2-core machine. The rest run every
// built-in profile (audit, scenarios), or many runs of one (ci, results),
// and run under make doctest (-doctest.all).
var fastDocs = []string{"README.md", "docs/profiles.md", "docs/stacks.md"}

// toxiproxyAddr is the address the docs give toxiproxy-server.
const toxiproxyAddr = "127.0.0.1:8474"

// docError is what a doc error looks like in the command's output.
var docError = regexp.MustCompile(`no such file|not exist|no run`)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDocCommands runs each document's fenced `collide …` commands with
// bash, in order, in a scratch folder of its own holding the repository's
// files (as from its root) and the files the document says to save. A
// command fails the test with file:line, the command and the first line
// of its stderr when it exits 2, exits with a code the docs do not give
// it, or says a file or run folder is missing. Commands after a
// `<!-- doctest: skip (…) -->` marker are counted, not run.
func TestDocCommands(t *testing.T) {
	if testing.Short() && !*all && *only == "" {
		t.Skip("-short: the docs' commands take about a minute (make doctest runs them all)")
	}
	root := repoRoot(t)
	docs := []string{"README.md"}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range more {
		docs = append(docs, "docs/"+filepath.Base(m))
	}
	switch {
	case *only != "":
		docs = strings.Split(*only, ",")
	case !*all:
		docs = slices.DeleteFunc(docs, func(d string) bool { return !slices.Contains(fastDocs, d) })
	}

	env := buildEnv(t, root)

	var ran, skipped int
	for _, d := range docs {
		t.Run(d, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(root, d))
			if err != nil {
				t.Fatal(err)
			}
			r, s, problems := runDocument(t, root, d, text, env)
			ran += r
			skipped += s
			for _, p := range problems {
				t.Error(p)
			}
		})
	}
	t.Logf("%d documents: %d commands run, %d skipped by a doctest: skip marker", len(docs), ran, skipped)
}

// buildEnv builds collide once and returns the commands' environment: PATH
// with the binary first, $PG and $COLLIDE_DB the tests' PostgreSQL DSN.
func buildEnv(t *testing.T, root string) []string {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "collide"), "./cmd/collide")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/collide: %v\n%s", err, out)
	}
	pg := os.Getenv("COLLIDE_TEST_PG_DSN")
	if pg == "" {
		pg = "postgres://collide:collide@127.0.0.1:5432/collide?sslmode=disable"
	}
	return append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PG="+pg, "COLLIDE_DB="+pg,
		"GITHUB_REPOSITORY=collide-dev/collide", "GITHUB_SHA=0000000",
		"TESTCONTAINERS_RYUK_DISABLED=true")
}

// runDocument runs the commands of document text (named name, relative to
// root) and returns how many ran, how many were skipped by a marker, and
// one line per problem: file:line, the command, its exit and the first
// line of its stderr.
func runDocument(t *testing.T, root, name string, text []byte, env []string) (ran, skipped int, problems []string) {
	doc, err := parse(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	work := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		// The repository's files, as when working from its root; not what
		// commands write (runs, bin) nor hidden entries.
		if n := e.Name(); !strings.HasPrefix(n, ".") && n != "runs" && n != "bin" && n != "audits" {
			if err := os.Symlink(filepath.Join(root, n), filepath.Join(work, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for f, content := range doc.Files {
		p := filepath.Join(work, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env = append(slices.Clip(env), "TMP="+work)

	// toxiproxy-server, as the docs start it, for documents that use it.
	if bytes.Contains(text, []byte(toxiproxyAddr)) {
		if stop := startToxiproxy(t); stop != nil {
			defer stop()
		}
	}

	// Background commands get SIGINT once the document's last command ran.
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	for _, c := range doc.Commands {
		where := fmt.Sprintf("%s:%d", name, c.Line)
		if c.Skip != "" {
			skipped++
			t.Logf("%s\tskipped (%s)\t%s", where, c.Skip, c.Text)
			continue
		}
		ran++
		if c.Background {
			cmd := exec.Command("bash", "-c", "exec "+c.Text)
			cmd.Dir, cmd.Env = work, env
			// Its output goes to a file, as bash's redirection would.
			out, err := os.Create(filepath.Join(t.TempDir(), "bg.out"))
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatalf("%s: %s: %v", where, c.Text, err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			stops = append(stops, func() {
				_ = cmd.Process.Signal(syscall.SIGINT)
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
			})
			if err := waitStarted(c.Text, done); err != nil {
				said, _ := os.ReadFile(out.Name())
				problems = append(problems, fmt.Sprintf("%s: doc error: %s: %v: %s", where, c.Text, err, firstLine(string(said))))
			}
			t.Logf("%s\tstarted\t%s", where, c.Text)
			continue
		}
		code, stdout, stderr := runCommand(work, env, c.Text)
		first := firstLine(stderr)
		t.Logf("%s\texit %d\t%s\t%s", where, code, c.Text, first)
		switch want := c.wantExit(); {
		case code == 2 || docError.MatchString(stderr):
			problems = append(problems, fmt.Sprintf("%s: doc error: %s: exit %d: %s", where, c.Text, code, first))
		case !slices.Contains(want, code):
			problems = append(problems, fmt.Sprintf("%s: %s: exit %d, the docs give %v: %s", where, c.Text, code, want, first))
		case code == 1 && len(want) > 1 && !strings.Contains(stdout+stderr, "FAIL") && !strings.Contains(stdout+stderr, "regress"):
			problems = append(problems, fmt.Sprintf("%s: %s: exit 1 without a failed invariant or a regression in its output: %s", where, c.Text, first))
		}
	}
	return ran, skipped, problems
}

// waitStarted waits for a background command to serve: for collide demo,
// until the port it names (default 8080) accepts; otherwise 2 s. An early
// exit is an error.
func waitStarted(text string, exited <-chan struct{}) error {
	addr := "127.0.0.1:8080"
	if m := regexp.MustCompile(`-addr[ =]\S*:(\d+)`).FindStringSubmatch(text); m != nil {
		addr = "127.0.0.1:" + m[1]
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("exited before the document's end")
		case <-deadline:
			return errors.New("not serving after 30s")
		case <-time.After(200 * time.Millisecond):
		}
		if !strings.HasPrefix(text, "collide demo") {
			time.Sleep(2 * time.Second)
			return nil
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return nil
		}
	}
}

// runCommand runs text with bash in dir, bounded by -doctest.timeout
// (SIGINT, then a kill 10 s later), and returns its exit code and output.
func runCommand(dir string, env []string, text string) (code int, stdout, stderr string) {
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", text)
	cmd.Dir, cmd.Env = dir, env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		code = -1
		e.WriteString(err.Error())
	}
	return code, o.String(), e.String()
}

// firstLine is the first line of collide's stderr that is not its run
// folder notice.
func firstLine(s string) string {
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "run folder:") {
			return l
		}
	}
	return ""
}

// startToxiproxy serves Toxiproxy's API on toxiproxyAddr, as
// `toxiproxy-server -host 127.0.0.1 -port 8474` does, and returns its stop.
// It returns nil when the port is taken (a toxiproxy-server already there
// serves the commands as well).
func startToxiproxy(t *testing.T) func() {
	ln, err := net.Listen("tcp", toxiproxyAddr)
	if err != nil {
		t.Logf("toxiproxy: %s taken (%v): using what listens there", toxiproxyAddr, err)
		return nil
	}
	api := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv := &http.Server{Handler: api.Routes(), ReadHeaderTimeout: 15 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		_ = api.Collection.Clear()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}
