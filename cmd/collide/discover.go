package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/stacks"
)

// discoverOptions are the flags of `collide discover`, checked before any I/O.
type discoverOptions struct {
	har, openapi, profile string
	target, demoMode      string
	dbDriver, dbDSN       string
	write                 string
	prove                 int
	format                string
	showParams            bool
	allowRemote           bool
	// ready is how long --target waits for the service's first connection
	// through the tap; 0 does not wait.
	ready time.Duration
	// tapListen is the tap's loopback address ("": a free port).
	tapListen string
	// gap is the quiet time before and after each request.
	gap time.Duration
	// timeout bounds the drive (all requests).
	timeout time.Duration
}

// discoverFormats are the outputs of the findings.
var discoverFormats = []string{"table", "json", "markdown"}

func (o *discoverOptions) check() error {
	if n := nonEmpty(o.har, o.openapi, o.profile); n > 1 || (n == 0 && o.demoMode == "") {
		return fmt.Errorf("name one source of requests: --har FILE, --openapi FILE|URL or --profile NAME|FILE (got %d)", n)
	}
	if n := nonEmpty(o.target, o.demoMode); n != 1 {
		return fmt.Errorf("name one service: --target URL (your running service) or --demo racy|safe (got %d)", n)
	}
	if o.target != "" {
		u, err := url.Parse(o.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--target %q: want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080", o.target)
		}
	}
	if o.dbDriver == "" {
		return errors.New("--db-driver is required: postgres or mysql, the database the service uses")
	}
	drv, err := database.Lookup(o.dbDriver)
	if err != nil {
		return fmt.Errorf("--db-driver: %w", err)
	}
	if _, ok := tapProtocol(o.dbDriver); !ok {
		wire := database.NamesWhere(func(d database.Driver) bool { return d.Features().Wire != "" })
		return fmt.Errorf("--db-driver %s: discovery reads the service's SQL on the wire: want %s", o.dbDriver, database.Join(wire))
	}
	if strings.TrimSpace(o.dbDSN) == "" {
		return errors.New("--db-dsn is required: the DSN of the database the service uses (the tap is put in front of it)")
	}
	network, _, err := drv.Address(o.dbDSN)
	if err != nil {
		return fmt.Errorf("--db-dsn %s: %w", drv.Redact(o.dbDSN), err)
	}
	if network != "tcp" {
		return fmt.Errorf("--db-dsn %s: connects over %s: the tap needs a TCP address", drv.Redact(o.dbDSN), network)
	}
	if o.demoMode != "" {
		cfg := demo.Config{Mode: o.demoMode, Driver: o.dbDriver, DSN: o.dbDSN}
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--demo: %w", err)
		}
	}
	if !contains(discoverFormats, o.format) {
		return fmt.Errorf("--format %q: want table, json or markdown", o.format)
	}
	switch {
	case o.prove < 0:
		return fmt.Errorf("--prove %d: want 1 or more runs per profile", o.prove)
	case o.prove > 0 && o.write == "":
		return errors.New("--prove runs the profiles --write DIR writes: name a folder with --write")
	case o.ready < 0 || o.gap <= 0 || o.timeout <= 0:
		return errors.New("--gap and --timeout must be positive durations, --ready 0 or more")
	}
	if o.tapListen != "" {
		host, _, err := net.SplitHostPort(o.tapListen)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("--tap %q: want a loopback host:port, e.g. 127.0.0.1:15432", o.tapListen)
		}
	}
	return nil
}

func nonEmpty(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tapProtocol is the wire protocol the tap reads for a driver, as the
// driver's Features name it; false for an unknown driver or one whose
// protocol the tap cannot read.
func tapProtocol(driver string) (tap.Protocol, bool) {
	d, err := database.Lookup(driver)
	if err != nil || d.Features().Wire == "" {
		return 0, false
	}
	p, err := tap.ProtocolNamed(d.Features().Wire)
	return p, err == nil
}

func cmdDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := discoverOptions{}
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.har, "har", "", "requests from a HAR file (the browser's network log of the flows to test)")
	fs.StringVar(&o.openapi, "openapi", "", "requests from an OpenAPI 3 document (JSON or YAML; a file or a loopback URL), with example values (default with --demo: the demo's /openapi.json)")
	fs.StringVar(&o.profile, "profile", "", "requests from a profile's setup and operations: a file or a built-in")
	fs.StringVar(&o.target, "target", "", "base URL of your running service; point its database at the tap this prints")
	fs.StringVar(&o.demoMode, "demo", "", "discover on collide's demo service instead: racy or safe")
	fs.StringVar(&o.dbDriver, "db-driver", "", "the service's database: postgres or mysql")
	fs.StringVar(&o.dbDSN, "db-dsn", "", "the DSN of the service's database (a loopback TCP address); the tap relays to it, the schema is read from it")
	fs.StringVar(&o.write, "write", "", "write one profile per finding into this folder: <id>-<class>.yaml")
	fs.IntVar(&o.prove, "prove", 0, "run each written profile N times (as collide run does) and print \"proved k/N\"")
	fs.StringVar(&o.format, "format", "table", "output of the findings: table, json or markdown")
	fs.BoolVar(&o.showParams, "show-params", false, "with table or markdown: also list each finding's statements with their parameter values")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --target, an --openapi URL or HAR entries outside loopback (HAR requests are sent to the target either way; the database must be on loopback: the tap relays loopback only)")
	fs.DurationVar(&o.ready, "ready", 2*time.Minute, "with --target: how long to wait for the service's first connection through the tap (0: do not wait, for a service that connects on its first request)")
	fs.StringVar(&o.tapListen, "tap", "", "the tap's loopback address, e.g. 127.0.0.1:15432, so the service can be configured before discover starts (default: a free port)")
	fs.DurationVar(&o.gap, "gap", discover.DefaultQuiet, "quiet time before and after each request, so late statements are not taken for the next request's")
	fs.DurationVar(&o.timeout, "timeout", discover.DefaultDriveTimeout, "bound on sending all the requests")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide discover [--har FILE | --openapi FILE|URL | --profile NAME|FILE] (--target URL | --demo racy|safe)\n"+
			"                       --db-driver postgres|mysql --db-dsn DSN [--write DIR [--prove N]] [--format table|json|markdown]\n\n"+
			"Sends each request alone through the service while a tap records the SQL it sends, reads the\n"+
			"database's unique keys, and prints the race candidates: endpoint, class, table, why, checker.\n"+
			"Exit codes: 0 findings printed (or none), 1 --prove proved a race, 2 bad input, 3 environment.")
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "collide discover: takes no argument (got %q); collide discover -h shows the flags\n", fs.Arg(0))
		return harness.ExitUsage
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide discover:", err)
		return harness.ExitUsage
	}
	if o.target != "" && !o.allowRemote {
		u, _ := url.Parse(o.target)
		if err := stacks.CheckLoopback(ctx, "--target", u.Hostname()); err != nil {
			fmt.Fprintln(stderr, "collide discover:", err)
			return harness.ExitUsage
		}
	}
	d := &discoverRun{o: o, stdout: stdout, stderr: stderr}
	defer d.stop()
	code := d.run(ctx)
	d.stop()
	if ctx.Err() != nil && code != harness.ExitUsage {
		fmt.Fprintln(stderr, "collide discover: interrupted; everything it started is stopped")
		return harness.ExitSignal
	}
	return code
}

// discoverRun is one `collide discover`: what it started, to stop on exit.
type discoverRun struct {
	o              discoverOptions
	stdout, stderr io.Writer
	tap            *tap.Tap
	demo           *stacks.Demo
}

// stop stops the demo, then the tap; safe to call more than once.
func (d *discoverRun) stop() {
	if d.demo != nil {
		if err := d.demo.Close(); err != nil {
			fmt.Fprintln(d.stderr, "collide discover: stop the demo:", err)
		}
		d.demo = nil
	}
	if d.tap != nil {
		d.tap.Close()
		d.tap = nil
		if d.o.target != "" {
			fmt.Fprintln(d.stderr, "the tap is stopped: point the service's database back at", database.Redact(d.o.dbDriver, d.o.dbDSN))
		}
	}
}

// fail prints one line and returns code.
func (d *discoverRun) fail(code int, format string, args ...any) int {
	fmt.Fprintf(d.stderr, "collide discover: "+format+"\n", args...)
	return code
}

func (d *discoverRun) run(ctx context.Context) int {
	o := d.o
	var reqs []discover.Request
	if o.har != "" || o.openapi != "" || o.profile != "" {
		var code int
		if reqs, code = d.requests(ctx, o.openapi); code != 0 {
			return code
		}
	}
	if discoverStages.readSchema == nil || discoverStages.analyze == nil {
		return d.fail(harness.ExitEnv, "this build has no analysis stage yet (discover/schema.go, analyze.go)")
	}
	drv, _ := database.Lookup(o.dbDriver) // known: check
	proto, _ := tapProtocol(o.dbDriver)
	_, upstream, _ := drv.Address(o.dbDSN) // checked
	rec := tap.NewRecorder(0)
	tp, err := tap.Start(ctx, tap.Config{Name: "database", Listen: o.tapListen, Upstream: upstream, Protocol: proto, Recorder: rec})
	if err != nil {
		if o.tapListen != "" && strings.Contains(err.Error(), "listen") {
			return d.fail(harness.ExitEnv, "--tap %s: %v", o.tapListen, err)
		}
		return d.fail(harness.ExitUsage, "--db-dsn %s: %v", drv.Redact(o.dbDSN), err)
	}
	d.tap = tp
	through, err := drv.Through(o.dbDSN, tp.Addr())
	if err != nil {
		return d.fail(harness.ExitUsage, "--db-dsn %s: %v", drv.Redact(o.dbDSN), err)
	}
	base := o.target
	if o.demoMode != "" {
		dm, err := stacks.StartDemo(ctx, demo.Config{Mode: o.demoMode, Driver: o.dbDriver, DSN: through, MaxConns: 4})
		if err != nil {
			return d.fail(harness.ExitEnv, "%v", err)
		}
		d.demo, base = dm, dm.URL()
		fmt.Fprintf(d.stderr, "demo service (%s) on %s, its database through the tap %s\n", o.demoMode, base, tp.Addr())
		if reqs == nil { // no source named: the demo's own document
			var code int
			if reqs, code = d.requests(ctx, base+"/openapi.json"); code != 0 {
				return code
			}
		}
	} else if code := d.waitReady(ctx, tp, rec, drv, through); code != 0 {
		return code
	}
	traces, err := discover.Drive(ctx, discover.DriveConfig{BaseURL: base, Recorder: rec, Requests: reqs,
		Quiet: o.gap, Timeout: o.timeout, AllowRemote: o.allowRemote,
		Captures: discoverStages.captures, Render: discoverStages.render,
		Each: func(tr discover.Trace) {
			status := fmt.Sprint(tr.Status)
			if tr.Err != "" {
				status = "---"
			}
			fmt.Fprintf(d.stderr, "  %s  %-45s %d statements\n", status, tr.Request.Method+" "+tr.Request.URL, len(tr.Statements))
		}})
	if err != nil {
		return d.fail(harness.ExitEnv, "%v", err)
	}
	answered, statements := 0, 0
	var analysed []discover.Trace
	for _, tr := range traces {
		statements += len(tr.Statements)
		if tr.Err == "" {
			answered++
		}
		if !tr.Request.Setup {
			analysed = append(analysed, tr)
		}
	}
	if answered == 0 && len(traces) > 0 {
		return d.fail(harness.ExitEnv, "no request got a response from %s: %s", base, traces[0].Err)
	}
	if statements == 0 && len(traces) > 0 {
		if why, ok := linkProblem(tp.Events()); ok {
			return d.fail(harness.ExitEnv, "database link %s: %s", tp.Addr(), why)
		}
		return d.fail(harness.ExitEnv, "no statement came through the tap %s during %d requests: is the service's database DSN pointing at it?", tp.Addr(), len(traces))
	}
	schema, code := d.schema(ctx, drv)
	if code != 0 {
		return code
	}
	findings := discoverStages.analyze(analysed, schema)
	if findings == nil {
		findings = []discover.Finding{}
	}
	if err := d.print(findings, traces); err != nil {
		return d.fail(harness.ExitEnv, "%v", err)
	}
	if o.write == "" {
		return 0
	}
	written, code := d.writeProfiles(findings, reqs, traces)
	if code != 0 || o.prove == 0 || len(written) == 0 {
		return code
	}
	if o.demoMode != "" {
		d.stop() // the proofs start their own demo; a --target service keeps using the tap
	}
	return d.proveAll(ctx, written, base)
}

// requests reads the source of requests; openapi is the OpenAPI document's
// file or URL, if that is the source.
func (d *discoverRun) requests(ctx context.Context, openapi string) ([]discover.Request, int) {
	o := d.o
	var (
		reqs []discover.Request
		err  error
	)
	switch {
	case o.profile != "":
		f := discoverStages.fromProfile
		if f == nil {
			return nil, d.fail(harness.ExitEnv, "this build has no profile source of requests yet (discover/profile.go)")
		}
		p, lerr := profiles.Load(o.profile, nil)
		if lerr != nil {
			return nil, d.fail(harness.ExitUsage, "--profile: %v", lerr)
		}
		reqs, err = f(p)
	default:
		flagName, path, f := "--openapi", openapi, discoverStages.fromOpenAPI
		if openapi == "" {
			flagName, path, f = "--har", o.har, nil
			if h := discoverStages.fromHAR; h != nil {
				f = func(path string, data []byte) ([]discover.Request, error) { return h(path, data, o.allowRemote) }
			}
		}
		if f == nil {
			return nil, d.fail(harness.ExitEnv, "this build cannot read %s yet (discover/%s.go)", flagName, strings.TrimPrefix(flagName, "--"))
		}
		data, code := d.readSource(ctx, flagName, path)
		if code != 0 {
			return nil, code
		}
		reqs, err = f(path, data)
	}
	if err != nil {
		return nil, d.fail(harness.ExitUsage, "%v", err)
	}
	n := 0
	for _, r := range reqs {
		if !r.Setup {
			n++
		}
	}
	if n == 0 {
		return nil, d.fail(harness.ExitUsage, "the source holds no request to analyse (only setup requests, or none)")
	}
	if len(reqs) > discover.MaxRequests {
		return nil, d.fail(harness.ExitUsage, "the source holds %d requests; discover sends at most %d: split it", len(reqs), discover.MaxRequests)
	}
	return reqs, 0
}

// maxSourceBytes bounds a HAR file or an OpenAPI document.
const maxSourceBytes = 64 << 20

// sourceTimeout bounds the fetch of a document given by URL.
const sourceTimeout = 10 * time.Second

// readSource reads a source file, or fetches it when path is an http(s)
// URL (on loopback unless --allow-remote): a missing file is bad input
// (2), a URL that does not answer 200 an environment failure (3).
func (d *discoverRun) readSource(ctx context.Context, flagName, path string) ([]byte, int) {
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, d.fail(harness.ExitUsage, "%s %s: %v", flagName, path, unwrapPath(err))
		}
		return data, 0
	}
	u, err := url.Parse(path)
	if err != nil || u.Host == "" {
		return nil, d.fail(harness.ExitUsage, "%s %s: not a URL", flagName, path)
	}
	if !d.o.allowRemote {
		if err := stacks.CheckLoopback(ctx, flagName, u.Hostname()); err != nil {
			return nil, d.fail(harness.ExitUsage, "%v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, d.fail(harness.ExitUsage, "%s %s: %v", flagName, u.Redacted(), err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, d.fail(harness.ExitEnv, "%s %s: %v", flagName, u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, d.fail(harness.ExitEnv, "%s %s: status %d", flagName, u.Redacted(), resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSourceBytes))
	if err != nil {
		return nil, d.fail(harness.ExitEnv, "%s %s: %v", flagName, u.Redacted(), err)
	}
	return data, 0
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// waitReady prints where the service's database must point and waits
// until a first connection comes through the tap.
func (d *discoverRun) waitReady(ctx context.Context, tp *tap.Tap, rec *tap.Recorder, drv database.Driver, through string) int {
	fmt.Fprintf(d.stderr, "point your service's database at the tap %s (TLS off), i.e. use the DSN\n  %s\n",
		tp.Addr(), drv.Redact(through))
	if d.o.ready == 0 {
		return 0
	}
	fmt.Fprintf(d.stderr, "and start or restart it; waiting up to %v for its first connection …\n", d.o.ready)
	deadline := time.NewTimer(d.o.ready)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for tp.Active() == 0 && len(rec.Statements()) == 0 {
		select {
		case <-ctx.Done():
			return harness.ExitSignal
		case <-deadline.C:
			return d.fail(harness.ExitEnv, "no connection through the tap %s within --ready %v: is the service's database DSN pointing at it?", tp.Addr(), d.o.ready)
		case <-tick.C:
		}
	}
	fmt.Fprintln(d.stderr, "the service is connected through the tap")
	return 0
}

// schema reads the unique keys from the database directly (not through
// the tap, so that they are not taken for the service's statements).
func (d *discoverRun) schema(ctx context.Context, drv database.Driver) (discover.Schema, int) {
	db, err := database.Open(ctx, drv.Name(), d.o.dbDSN)
	if err != nil {
		return discover.Schema{}, d.fail(harness.ExitEnv, "%v", err)
	}
	defer db.Close()
	s, err := discoverStages.readSchema(ctx, db)
	if err != nil {
		return discover.Schema{}, d.fail(harness.ExitEnv, "read the schema: %v", err)
	}
	return s, 0
}

// print writes the findings in the chosen format to stdout.
func (d *discoverRun) print(findings []discover.Finding, traces []discover.Trace) error {
	w := d.stdout
	switch d.o.format {
	case "json":
		b, err := json.MarshalIndent(findings, "", "  ")
		if err != nil {
			return fmt.Errorf("json: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "markdown":
		fmt.Fprintln(w, "| id | endpoint | class | table | why | checker |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, f := range findings {
			fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s |\n", f.ID, mdCell(f.Endpoint), f.Class, mdCell(f.Table), mdCell(f.Why), f.Checker)
		}
	default:
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tENDPOINT\tCLASS\tTABLE\tWHY\tCHECKER")
		for _, f := range findings {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Endpoint, f.Class, f.Table, f.Why, f.Checker)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%d %s in %d requests\n", len(findings), plural(len(findings), "finding", "findings"), len(traces))
	if d.o.showParams {
		printParams(w, findings, traces)
	}
	return nil
}

// printParams lists each finding's statements with their parameter values.
func printParams(w io.Writer, findings []discover.Finding, traces []discover.Trace) {
	for _, f := range findings {
		for _, tr := range traces {
			if tr.Request.ID != f.RequestID {
				continue
			}
			fmt.Fprintf(w, "\n%s: %s %s\n", f.ID, tr.Request.Method, tr.Request.URL)
			for i, s := range tr.Statements {
				params := make([]string, len(s.Params))
				for j, p := range s.Params {
					params[j] = p.String()
				}
				fmt.Fprintf(w, "  %d. %s", i+1, oneLineSQL(s.Text))
				if len(params) > 0 {
					fmt.Fprintf(w, "  [%s]", strings.Join(params, ", "))
				}
				fmt.Fprintln(w)
			}
			break
		}
	}
}

func oneLineSQL(s string) string { return strings.Join(strings.Fields(s), " ") }

func mdCell(s string) string { return strings.ReplaceAll(oneLineSQL(s), "|", `\|`) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writtenProfile is a profile --write wrote.
type writtenProfile struct {
	id, path string
}

// writeProfiles writes one profile per finding into --write.
func (d *discoverRun) writeProfiles(findings []discover.Finding, reqs []discover.Request, traces []discover.Trace) ([]writtenProfile, int) {
	if err := os.MkdirAll(d.o.write, 0o755); err != nil {
		return nil, d.fail(harness.ExitEnv, "--write %s: %v", d.o.write, unwrapPath(err))
	}
	byID := map[string]discover.Request{}
	var setup []discover.Request
	for _, r := range reqs {
		byID[r.ID] = r
		if r.Setup {
			setup = append(setup, r)
		}
	}
	traceOf := map[string]*discover.Trace{}
	for i := range traces {
		if id := traces[i].Request.ID; traceOf[id] == nil {
			traceOf[id] = &traces[i]
		}
	}
	var out []writtenProfile
	for _, f := range findings {
		req, ok := byID[f.RequestID]
		if !ok {
			fmt.Fprintf(d.stderr, "collide discover: %s: no request %q to replay; no profile written\n", f.ID, f.RequestID)
			continue
		}
		b, err := discover.ProfileWith(f, req, setup, discover.GenerateOptions{Driver: d.o.dbDriver, DemoMode: d.o.demoMode,
			Captures: discoverStages.captures, Trace: traceOf[f.RequestID]})
		if err != nil {
			fmt.Fprintf(d.stderr, "collide discover: %v; no profile written\n", err)
			continue
		}
		path := filepath.Join(d.o.write, f.ID+"-"+string(f.Class)+".yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return out, d.fail(harness.ExitEnv, "--write: %v", err)
		}
		fmt.Fprintf(d.stderr, "wrote %s\n", path)
		out = append(out, writtenProfile{id: f.ID, path: path})
	}
	return out, 0
}

// proveAll runs each written profile --prove times and prints "proved k/N"
// (on stdout; on stderr with --format json, which keeps stdout JSON).
func (d *discoverRun) proveAll(ctx context.Context, written []writtenProfile, base string) int {
	out := d.stdout
	if d.o.format == "json" {
		out = d.stderr
	}
	sets := []string{"database.dsn=" + yamlString(d.o.dbDSN)}
	if d.o.target != "" {
		sets = append(sets, "target.url="+yamlString(base))
	}
	proved, failed := false, false
	for _, w := range written {
		if ctx.Err() != nil {
			return harness.ExitSignal
		}
		p, err := profiles.Load(w.path, sets)
		if err == nil {
			err = harness.Validate(p)
		}
		if err != nil {
			fmt.Fprintf(d.stderr, "collide discover: %s: %v\n", w.path, err)
			failed = true
			continue
		}
		dir := filepath.Join(d.o.write, "runs", strings.TrimSuffix(filepath.Base(w.path), ".yaml"))
		s := harness.RunCount(ctx, harness.Options{Profile: p, Overrides: sets, OutDir: dir, AllowRemote: d.o.allowRemote, Version: version},
			d.o.prove, false, nil)
		for _, r := range s.Runs {
			if r.Error != "" {
				fmt.Fprintf(d.stderr, "collide discover: %s: run %d: %s\n", w.id, r.N, r.Error)
			}
		}
		fmt.Fprintf(out, "%s  proved %d/%d  (%s; run folders %s)\n", w.id, s.Flagged, d.o.prove, w.path, dir)
		proved = proved || s.Flagged > 0
		failed = failed || s.ExitCode == harness.ExitEnv || s.ExitCode == harness.ExitUsage
	}
	switch {
	case proved: // a proven race stands even when another proof could not run
		return harness.ExitFail
	case failed:
		return harness.ExitEnv
	}
	return 0
}

// yamlString quotes s for a --set value: a JSON string is YAML.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// linkProblem is why the tap could not read the database link, when its
// events say: TLS it refused (the service insists on TLS), or a stream it
// could not follow (not the driver's protocol). A TLS refusal the service
// fell back from leaves statements and is not asked about.
func linkProblem(events []tap.Event) (string, bool) {
	for _, e := range events {
		switch e.Kind {
		case tap.EventTLSRefused, tap.EventUndecodable:
			if e.Err != nil {
				return e.Err.Error(), true
			}
			return string(e.Kind) + ": " + e.Detail, true
		}
	}
	return "", false
}
