package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/report"
)

// Files in an audit folder; each profile's run folder is RunsDir/<profile>.
const (
	auditMarkdownFile = "audit.md"
	auditHTMLFile     = "audit.html"
	auditJUnitFile    = "audit.junit.xml"
	auditJSONFile     = "audit.json"
	auditRunsDir      = "runs"
)

// auditOptions are the flags of `collide audit`, checked before any I/O.
type auditOptions struct {
	out         string
	sets        multiFlag
	seed        int64
	allowRemote bool
	toxiproxy   string
	format      string
	timeout     time.Duration
	quiet       bool
	system      string
	auditor     string
}

func (o *auditOptions) check() error {
	if _, err := report.AuditFormats.Lookup(o.format); err != nil {
		return err
	}
	if o.timeout < 0 {
		return fmt.Errorf("-timeout must not be negative")
	}
	if strings.ContainsAny(o.system+o.auditor, "\n\r") {
		return fmt.Errorf("-system and -auditor must be one line")
	}
	return nil
}

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400) // as `collide run`: see cmdRun
	}
	var o auditOptions
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "", "audit folder (default audits/<time>): the reports, and each profile's run folder under runs/")
	fs.Var(&o.sets, "set", "override a field of every profile, e.g. -set target.demo.mode=safe (repeatable)")
	fs.Int64Var(&o.seed, "seed", 0, "random seed of every run (default: each profile's, else from the clock)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow targets or databases outside loopback")
	fs.StringVar(&o.toxiproxy, "toxiproxy", "", "URL of an external toxiproxy-server API (default: embedded)")
	fs.StringVar(&o.format, "format", "table", "stdout: table (test results and score), markdown (the whole report) or none")
	fs.DurationVar(&o.timeout, "timeout", 0, "abort each run after this long (default: its attack length + 2m)")
	fs.BoolVar(&o.quiet, "q", false, "no progress messages on stderr")
	fs.StringVar(&o.system, "system", "", "the system audited, for the report's heading (default: the runs' targets)")
	fs.StringVar(&o.auditor, "auditor", "", "the auditor, for the report's heading (default: collide and its version)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: collide audit [flags] [PROFILE.yaml|BUILTIN …]   (default: every built-in profile)")
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "collide audit:", err)
		return harness.ExitUsage
	}
	names := fs.Args()
	defaulted := len(names) == 0
	if defaulted {
		for _, b := range profiles.Builtins() {
			names = append(names, b.Name)
		}
	}

	// Every profile loads before anything runs: a typo is one line and exit
	// 2, not a report with a hole in it.
	var ps []*profiles.Profile
	seen := map[string]string{}
	for _, n := range names {
		p, err := profiles.Load(n, o.sets)
		if err == nil {
			err = harness.Validate(p) // what only a run would reject: checkers, faults, templates
		}
		if defaulted {
			// The default suite leaves out a built-in that needs a
			// database this run does not have (compound-op needs a
			// networked one), saying so; named, it runs and fails as such.
			if why := needsOtherDatabase(ctx, p, err, !o.setsDatabase()); why != "" {
				fmt.Fprintf(stderr, "collide audit: leaving out %s: %s (name it, or -set database.driver/dsn, to run it)\n", n, why)
				continue
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "collide audit:", err)
			return harness.ExitUsage
		}
		if first, dup := seen[p.Name]; dup {
			fmt.Fprintf(stderr, "collide audit: %s: profile name %q is also the name of %s; each profile of an audit needs a name of its own\n", n, p.Name, first)
			return harness.ExitUsage
		}
		seen[p.Name] = n
		ps = append(ps, p)
	}

	start := time.Now()
	out := o.out
	if out == "" {
		out = filepath.Join("audits", start.Format("20060102-150405"))
	}
	if err := os.MkdirAll(filepath.Join(out, auditRunsDir), 0o755); err != nil {
		fmt.Fprintln(stderr, "collide audit:", err)
		return harness.ExitEnv
	}
	var log io.Writer = stderr
	if o.quiet {
		log = io.Discard
	}

	runs := make([]report.AuditRun, 0, len(ps))
	for i, p := range ps {
		dir := filepath.Join(auditRunsDir, p.Name)
		ar := report.AuditRun{Profile: p.Name, Audit: p.Audit}
		if ctx.Err() != nil {
			ar.ExitCode = harness.ExitSignal
			runs = append(runs, ar)
			continue
		}
		fmt.Fprintf(log, "collide audit: [%d/%d] %s\n", i+1, len(ps), p.Name)
		res, err := harness.Run(ctx, harness.Options{
			Profile:      p,
			Overrides:    o.sets,
			OutDir:       filepath.Join(out, dir),
			Seed:         o.seed,
			AllowRemote:  o.allowRemote,
			ToxiproxyURL: o.toxiproxy,
			Timeout:      o.timeout,
			Version:      version,
			Log:          log,
			Progress:     progressWriter(o.quiet, false, stderr),
		})
		switch {
		case res != nil:
			ar.Result, ar.Dir, ar.ExitCode = res, filepath.ToSlash(dir), res.ExitCode
			if err != nil {
				ar.Error = err.Error()
			}
			fmt.Fprintf(log, "collide audit: %s: %s\n", p.Name, report.VerdictLine(res))
		default:
			ar.Error, ar.ExitCode = err.Error(), harness.ErrorExitCode(err)
			fmt.Fprintf(log, "collide audit: %s: %v\n", p.Name, err)
		}
		runs = append(runs, ar)
	}

	a := report.NewAuditReport(report.AuditInfo{
		System:  firstNonEmptyString(o.system, auditSystem(runs)),
		Date:    start.UTC(),
		Auditor: firstNonEmptyString(o.auditor, "collide "+version),
	}, runs)
	if err := writeAudit(out, a); err != nil {
		fmt.Fprintln(stderr, "collide audit:", err)
		return report.WorstExitCode(a.ExitCode, harness.ExitEnv)
	}
	write, err := report.AuditFormats.Lookup(o.format) // known: o.check
	if err == nil {
		err = write(stdout, a, report.FormatOptions{})
	}
	if err != nil {
		fmt.Fprintf(stderr, "collide audit: %s: %v\n", o.format, err)
	}
	fmt.Fprintf(stderr, "audit folder: %s\n", out)
	return a.ExitCode
}

// writeAudit writes the report in every format, and its data as JSON, into
// the audit folder.
func writeAudit(out string, a *report.AuditReport) error {
	for _, f := range []struct {
		name   string
		render func(io.Writer, *report.AuditReport) error
	}{
		{auditMarkdownFile, report.AuditMarkdown},
		{auditHTMLFile, report.AuditHTML},
		{auditJUnitFile, report.AuditJUnit},
		{auditJSONFile, func(w io.Writer, a *report.AuditReport) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(a)
		}},
	} {
		var b bytes.Buffer
		if err := f.render(&b, a); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if err := report.WriteFileAtomic(filepath.Join(out, f.name), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// auditSystem names the system audited from the runs: their distinct
// targets and databases, in run order.
func auditSystem(runs []report.AuditRun) string {
	var seen []string
	for _, r := range runs {
		if r.Result == nil {
			continue
		}
		s := r.Result.Target
		if db := strings.Fields(r.Result.Database); len(db) > 0 {
			s += " on " + db[0] // the driver; the DSN stays in the run's result
		}
		if !slices.Contains(seen, s) {
			seen = append(seen, s)
		}
	}
	if len(seen) == 0 {
		return "unknown (no run started)"
	}
	return strings.Join(seen, ", ")
}

func firstNonEmptyString(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// setsDatabase reports whether -set overrides a database field: the user
// chose the database, and every profile runs on it.
func (o *auditOptions) setsDatabase() bool {
	for _, kv := range o.sets {
		if strings.HasPrefix(kv, "database.") || strings.HasPrefix(kv, "database=") {
			return true
		}
	}
	return false
}

// needsOtherDatabase says why built-in p cannot run here as it stands, or
// "": its database link needs a networked database (loadErr), or — when
// ping, i.e. the database is the built-in's own — its networked database
// does not answer within 3 s.
func needsOtherDatabase(ctx context.Context, p *profiles.Profile, loadErr error, ping bool) string {
	if loadErr != nil {
		// A fault that the chosen database cannot carry: the link needs a
		// networked database, the statement cut a wire protocol.
		for _, cannot := range []string{"needs a networked database", "SQL wire protocol"} {
			if strings.Contains(loadErr.Error(), cannot) {
				return loadErr.Error()
			}
		}
		return ""
	}
	if !ping {
		return ""
	}
	d, err := database.Lookup(p.Database.Driver)
	if err != nil || d.Features().InProcess || p.Database.DSN == "" || p.Database.Container != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	db, err := database.Open(ctx, d.Name(), p.Database.DSN)
	if err != nil {
		return fmt.Sprintf("its %s database %s does not answer", d.Name(), d.Redact(p.Database.DSN))
	}
	db.Close()
	return ""
}
