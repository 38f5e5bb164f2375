package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/collide-dev/collide/harness"
)

// profileName is what a profile's name may be (docs/profiles.md#top-level).
var profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// initOptions are the flags and argument of `collide init`, checked before
// any I/O.
type initOptions struct {
	url  string
	name string
	file string
}

func (o *initOptions) check(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("name the profile, e.g. collide init shop (writes shop.yaml), not %d arguments", len(args))
	}
	o.file = args[0]
	o.name = strings.TrimSuffix(strings.TrimSuffix(args[0], ".yaml"), ".yml")
	if strings.ContainsRune(o.name, os.PathSeparator) {
		return fmt.Errorf("%q: a profile name, not a path (collide init writes NAME.yaml in the working directory)", args[0])
	}
	if !profileName.MatchString(o.name) {
		return fmt.Errorf("%q: a profile name is lowercase letters, digits and -", o.name)
	}
	if o.file == o.name {
		o.file = o.name + ".yaml"
	}
	if !strings.HasPrefix(o.url, "http://") && !strings.HasPrefix(o.url, "https://") {
		return fmt.Errorf("-url %q: want an absolute http:// or https:// URL", o.url)
	}
	return nil
}

func cmdInit(_ context.Context, args []string, stdout, stderr io.Writer) int {
	o := initOptions{}
	fset := flag.NewFlagSet("init", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of your running service")
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage: collide init [-url URL] NAME")
		fmt.Fprintln(fset.Output(), "\nWrites NAME.yaml, a commented starter profile for your own service: its URL, one")
		fmt.Fprintln(fset.Output(), "operation sent in bursts, one invariant checked in its database. Edit it, then")
		fmt.Fprintln(fset.Output(), "collide validate NAME.yaml and collide run NAME.yaml. Never overwrites a file.")
		fmt.Fprintln(fset.Output(), "Exit: 0 written, 2 usage or the file exists, 3 it could not be written.")
		fmt.Fprintln(fset.Output())
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout, stderr); done {
		return code
	}
	if err := o.check(fset.Args()); err != nil {
		fmt.Fprintln(stderr, "collide init:", err)
		return harness.ExitUsage
	}
	f, err := os.OpenFile(o.file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		fmt.Fprintf(stderr, "collide init: %s exists; not overwritten (pick another name or remove it)\n", o.file)
		return harness.ExitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, "collide init:", err)
		return harness.ExitEnv
	}
	_, werr := io.WriteString(f, starterProfile(o.name, o.url))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(o.file)
		fmt.Fprintln(stderr, "collide init:", werr)
		return harness.ExitEnv
	}
	fmt.Fprintf(stdout, "wrote %s: edit the URL, the operation and the invariant, then\n  collide validate %s\n  collide run %s\n", o.file, o.file, o.file)
	return 0
}

// starterProfile is the profile `collide init` writes: valid as it stands
// (collide validate passes), and commented so that each part points at its
// section of docs/profiles.md.
func starterProfile(name, url string) string {
	return fmt.Sprintf(`# A collide profile for your own service; every field is described in
# docs/profiles.md (https://github.com/collide-dev/collide/blob/main/docs/profiles.md).
# Check it with:  collide validate %[1]s.yaml     Run it with:  collide run %[1]s.yaml
#
# As written it attacks the demo service, so that you can try it before
# editing: start "collide demo" in another terminal (it serves on
# 127.0.0.1:8080 and keeps its data in collide-demo.db), then run it; the
# demo's counter is racy, so the invariant fails and the run exits 1.
# Then point the target, database, setup, operation and invariant at your
# service.
name: %[1]s
about: Concurrent increments must all be counted exactly once.

# The service under test, already running (docs/profiles.md#target).
# collide attacks only loopback addresses unless allow_remote: true is set.
target:
  url: %[2]s

# Where the service keeps its state; invariants query it after the attack
# (docs/profiles.md#database). For PostgreSQL:
#   driver: postgres
#   dsn: ${SHOP_DSN}          # read from the environment, redacted in results
database:
  driver: sqlite
  dsn: collide-demo.db

# SQL (or HTTP requests: login, create the resource) run before the attack,
# to put the data in a known state (docs/profiles.md#setup).
setup:
  - DELETE FROM counters
  - INSERT INTO counters(id, value) VALUES (1, 0)

# Network faults between collide and the service during the attack
# (docs/profiles.md#chaos): jitter on every response, and for 40 ms every
# response cut after the service acted (those requests are "unknown").
chaos:
  - {link: target, fault: latency, latency: 1ms, jitter: 1ms}
  - {link: target, fault: reset_peer, toxicity: 0.5, from: 500ms, for: 40ms}

# The requests: 16 copies released together per burst, 20 bursts a second,
# for 1 second (docs/profiles.md#operations).
operations:
  - name: incr
    request: {method: POST, url: /counters/1/increment}
    burst: 16
    rate: 20/s
    duration: 1s

# What must still hold afterwards, proven from the database
# (docs/profiles.md#invariants). A request whose response never arrived is
# "unknown": it may or may not have taken effect, so the bound allows it:
# ok <= after - before <= ok + unknown.
invariants:
  - name: every acknowledged increment is counted exactly once
    check: counter
    op: incr
    query: SELECT value FROM counters WHERE id = 1
`, name, url)
}
