package profiles

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/collide-dev/collide/chaos/fault"
)

// Version is the profile format version this package reads.
const Version = 1

// Profile is one load profile: what to attack, how to break the network
// meanwhile, and what must hold afterwards. Every field is documented in
// docs/profiles.md.
type Profile struct {
	// Version is the format version; 0 (absent) means 1.
	Version int `yaml:"version" json:"version"`
	// Name identifies the profile in results and tables.
	Name string `yaml:"name" json:"name"`
	// About is one line on what the profile proves.
	About string `yaml:"about" json:"about,omitempty"`
	// Audit places the profile in the concurrency audit (`collide audit`):
	// which test it performs and on which resource. Optional for `collide
	// run`; a profile without it is listed under "unassigned" in an audit.
	Audit *Audit `yaml:"audit" json:"audit,omitempty"`
	// Seed seeds the run's random source; 0 picks one from the clock. The seed
	// used is printed in the result so a run can be replayed.
	Seed int64 `yaml:"seed" json:"seed,omitempty"`
	// AllowRemote permits a target or database outside loopback.
	AllowRemote bool `yaml:"allow_remote" json:"allow_remote,omitempty"`
	// Target is the service under test.
	Target Target `yaml:"target" json:"target"`
	// Database is where the service keeps its state and checkers look.
	Database Database `yaml:"database" json:"database"`
	// Setup is run, in order, before the attack: SQL statements and HTTP
	// requests whose captures become variables ({{name}}) of later steps,
	// teardown, operations and invariant queries.
	Setup []SetupStep `yaml:"setup" json:"setup,omitempty"`
	// Teardown is run, in order, after the check (even when the run failed or
	// was interrupted), before the stack is stopped.
	Teardown []SetupStep `yaml:"teardown" json:"teardown,omitempty"`
	// Chaos lists the faults applied during the attack.
	Chaos []Fault `yaml:"chaos" json:"chaos,omitempty"`
	// Operations are the request streams of the attack; they run at once.
	Operations []Operation `yaml:"operations" json:"operations"`
	// Settle is how long to wait after the attack and healing before checking
	// (default 200ms), for asynchronous work to quiesce.
	Settle Duration `yaml:"settle" json:"settle,omitempty"`
	// Invariants are the properties checked after the run.
	Invariants []Invariant `yaml:"invariants" json:"invariants"`
	// Verdict tunes how check results become the run's verdict.
	Verdict VerdictPolicy `yaml:"verdict" json:"verdict,omitempty"`

	// src is where the profile came from: file name, hash and the line of
	// every field (see File, Line, Errorf and Hash); nil for a Profile built
	// in code.
	src *source
}

// Audit is a profile's place in the Concurrency & Race Condition Audit
// Report (shared/seeds/000; docs/audit.md): one concurrent access point and
// the audit test that exercises it.
type Audit struct {
	// ID is the audit test the profile performs: TEST-RC-001 … TEST-RC-007
	// for the audit's own tests, or an id of your own in the same form
	// (upper-case words joined by "-", e.g. SEC-OVERSELL).
	ID string `yaml:"id" json:"id"`
	// Resource is the shared resource the operations collide on, e.g.
	// "accounts.balance" or "orders (per Idempotency-Key)".
	Resource string `yaml:"resource" json:"resource"`
	// Pattern is the concurrent access pattern, e.g. "two users editing";
	// empty takes the audit's wording for ID (docs/audit.md).
	Pattern string `yaml:"pattern" json:"pattern,omitempty"`
	// Protection is what is meant to protect the resource, e.g. "optimistic
	// lock (version check)"; empty means not stated.
	Protection string `yaml:"protection" json:"protection,omitempty"`
	// Title names the test in the report's test results, for an ID that is
	// not one of the audit's seven (theirs have the audit's own titles).
	Title string `yaml:"title" json:"title,omitempty"`
}

// Target says where the service under test comes from: exactly one of URL,
// Demo, Command or Container.
type Target struct {
	// URL is the base URL of a running service, e.g. http://127.0.0.1:8080.
	URL string `yaml:"url" json:"url,omitempty"`
	// Demo starts collide's built-in demo service in-process.
	Demo *DemoTarget `yaml:"demo" json:"demo,omitempty"`
	// Command starts the service as a child process (see stacks.go).
	Command *CommandTarget `yaml:"command" json:"command,omitempty"`
	// Container runs the service in a container next to database.container
	// and a Toxiproxy container (see stacks.go).
	Container *ContainerTarget `yaml:"container" json:"container,omitempty"`
}

// DemoTarget configures the built-in demo service.
type DemoTarget struct {
	// Mode is "racy" or "safe".
	Mode string `yaml:"mode" json:"mode"`
	// Think is the work time the demo spends between reading and writing
	// (default 2ms); it widens race windows as real handlers do.
	Think Duration `yaml:"think" json:"think,omitempty"`
	// Slowdown holds every response back this fraction of the time its
	// handler took (0.3: a 30% slower service), 0…10; default 0. It makes
	// a slower build for measuring `collide compare`'s latency gate.
	Slowdown float64 `yaml:"slowdown" json:"slowdown,omitempty"`
	// Redis is the Redis URL the demo's locks endpoint uses (e.g.
	// redis://127.0.0.1:6379/0); ${ENV} is expanded. Without it locks use
	// PostgreSQL advisory locks, MariaDB's GET_LOCK or, on SQLite, a lease
	// table. Leave it unset when database.driver is redis: database.dsn is
	// then the lock store, reached through the database link.
	Redis string `yaml:"redis" json:"redis,omitempty"`
}

// Database names the database the service uses.
type Database struct {
	// Driver is postgres, sqlite, mysql or redis (the demo runs on postgres,
	// mysql or sqlite).
	Driver string `yaml:"driver" json:"driver"`
	// DSN is the connection string; ${ENV} references are expanded. For sqlite
	// with a demo or command target it may be empty: a file in the run
	// folder is used. Empty with Container: collide fills it in.
	DSN string `yaml:"dsn" json:"dsn,omitempty"`
	// Container starts a PostgreSQL container for the run (see stacks.go).
	Container *DatabaseContainer `yaml:"container" json:"container,omitempty"`
}

// Fault is one network fault on one link, optionally limited to a window:
// the fields every fault has, then those of its kind (latency and jitter
// for latency, rate for bandwidth …), in one mapping: {link: target, fault:
// latency, latency: 20ms}.
type Fault struct {
	// Link is "target" (attacker → service) or "database" (service → db).
	Link string `yaml:"link" json:"link"`
	// Fault is the fault kind, one registered in package chaos/fault:
	// latency, reset_peer, timeout, bandwidth, slow_close, limit_data,
	// cut_after_statement.
	Fault string `yaml:"fault" json:"fault"`
	// Stream is "downstream" (towards the client, default) or "upstream".
	Stream string `yaml:"stream" json:"stream,omitempty"`
	// Toxicity is the probability, per connection, that the fault applies
	// (default 1).
	Toxicity *float64 `yaml:"toxicity" json:"toxicity,omitempty"`
	// From is when, after the attack starts, the fault is added (default 0).
	From Duration `yaml:"from" json:"from,omitempty"`
	// For is how long the fault stays; 0 means until the attack ends.
	For Duration `yaml:"for" json:"for,omitempty"`

	// Params are the kind's own fields (a fault.Latency for latency …),
	// decoded and checked by the loader; nil in a Fault built in code means
	// the kind's defaults. Spec gives them checked, whichever the case.
	Params fault.Params `yaml:"-" json:"-"`
}

// Operation is one stream of requests.
type Operation struct {
	// Name identifies the operation in the history and in expressions.
	Name string `yaml:"name" json:"name"`
	// Request is the request template.
	Request Request `yaml:"request" json:"request"`
	// Rate is the pacing, e.g. "300/s" or "10/100ms"; "max" sends as fast as
	// the workers allow (then Requests or Duration bounds the attack).
	Rate Rate `yaml:"rate" json:"rate"`
	// Duration is how long the operation runs.
	Duration Duration `yaml:"duration" json:"duration"`
	// Requests caps the number of requests (0: Rate × Duration). With a
	// burst it is rounded up to whole bursts (a burst is never split);
	// Bursts says the same in bursts.
	Requests int `yaml:"requests" json:"requests,omitempty"`
	// Bursts caps the number of bursts of a burst operation (0: Rate ×
	// Duration bursts, or Requests rounded up to whole bursts).
	Bursts int `yaml:"bursts" json:"bursts,omitempty"`
	// Workers is the initial number of concurrent workers (default 16).
	Workers int `yaml:"workers" json:"workers,omitempty"`
	// MaxWorkers caps workers that vegeta may add to keep the rate (default
	// 4 × Workers, at least 64).
	MaxWorkers int `yaml:"max_workers" json:"max_workers,omitempty"`
	// Timeout is the per-request timeout (default 5s); a timeout is unknown.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// KeepAlive reuses connections (default true). false opens one connection
	// per request, so a fault's toxicity becomes a per-request probability.
	KeepAlive *bool `yaml:"keepalive" json:"keepalive,omitempty"`
	// Keys is what {{key}} draws from: a count (keys: 50 renders key-0 …
	// key-49), a list (keys: [7, 9, 12]), an integer range (keys: {from: 1,
	// to: 100}) or a query run after setup (keys: {query: SELECT id FROM
	// items}); see Keys. Default one key, key-0 (hammer one key).
	Keys Keys `yaml:"keys" json:"keys,omitzero"`
	// Outcome maps status codes to outcomes.
	Outcome OutcomeRules `yaml:"outcome" json:"outcome,omitempty"`
	// Capture names values to take from the JSON response body: variable
	// name → dotted path (e.g. version: data.version). Captures are recorded
	// in the history; in a flow, later steps use them as {{name}}.
	Capture map[string]string `yaml:"capture" json:"capture,omitempty"`
	// Burst releases copies of one request (the same rendered values, e.g.
	// the same idempotency key; {{copy}} tells them apart) together, so
	// that they reach the service within microseconds of each other; Rate
	// then paces bursts. In a flow, the steps before the last run once per
	// burst and copies of the last step are released with their captures.
	// Written as a count (burst: 8) or a mapping (burst: {copies: 8, sync:
	// last-byte}).
	Burst *Burst `yaml:"burst" json:"burst,omitempty"`
	// Flow replaces Request with steps run in order in each iteration (read a
	// version, then write with it). A step that is not ok ends its iteration.
	Flow []Step `yaml:"flow" json:"flow,omitempty"`
	// RampTo makes the rate rise linearly from Rate to RampTo over Duration.
	RampTo *Rate `yaml:"ramp_to" json:"ramp_to,omitempty"`
	// Retry resends a request whose outcome is unknown, as real clients do:
	// the same request (same idempotency key) up to Max more times.
	Retry Retry `yaml:"retry" json:"retry,omitzero"`
}

// Burst says how copies of a request are released together. In YAML it is
// a count (burst: 30, meaning {copies: 30}) or a mapping of these fields.
type Burst struct {
	// Copies is how many copies of the request (of each request named in
	// Of) one burst releases, 1 to 1000.
	Copies int `yaml:"copies" json:"copies"`
	// Sync is how the copies are released: "last-byte" (HTTP/1.1: every
	// copy written on its own connection but its last byte, then the last
	// bytes together), "single-packet" (HTTP/2: every copy's final frame in
	// one write), or "barrier" (goroutines released together, each sending
	// its own request). Empty: the tightest the target supports —
	// single-packet if it speaks HTTP/2, else last-byte.
	Sync string `yaml:"sync" json:"sync,omitempty"`
	// Fallback is the sync to use when Sync is single-packet and the target
	// does not speak HTTP/2 (last-byte or barrier). Empty: such a run stops
	// with exit 3 before any load.
	Fallback string `yaml:"fallback" json:"fallback,omitempty"`
	// Of names other operations whose requests one burst releases together
	// (a read and a write of one key, two endpoints on one row): a mixed
	// burst. Each copy is recorded under its own operation's name. The
	// operations named here only describe requests: they have no rate or
	// duration of their own and do not run alone. Empty: the burst releases
	// copies of this operation's own request.
	Of []string `yaml:"of" json:"of,omitempty"`
}

// Size is the number of requests one burst sends: Copies for each of its
// requests.
func (b *Burst) Size() int {
	if b == nil {
		return 0
	}
	return b.Copies * max(len(b.Of), 1)
}

// fromShort reads the short form, burst: N (see shortForm).
func (b *Burst) fromShort(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return fmt.Errorf("want a count of copies (burst: 8) or a mapping (burst: {copies: 8, sync: last-byte})")
	}
	c, err := strconv.Atoi(n.Value)
	if err != nil {
		return fmt.Errorf("%s is not a count of copies", n.Value)
	}
	*b = Burst{Copies: c}
	return nil
}

// Step is one request of a flow.
type Step struct {
	// Name identifies the step; its ops are named "<operation>.<step>".
	Name string `yaml:"name" json:"name"`
	// Request is the step's request template; it may use captures of
	// earlier steps as {{name}}.
	Request Request `yaml:"request" json:"request"`
	// Capture takes values from this step's JSON response.
	Capture map[string]string `yaml:"capture" json:"capture,omitempty"`
}

// Retry is a client retry policy for unknown outcomes.
type Retry struct {
	// Max is how many times a request is resent after an unknown outcome
	// (0: never, at most 10).
	Max int `yaml:"max" json:"max,omitempty"`
	// Backoff is the wait before the first resend; it doubles each time
	// (default 50ms).
	Backoff Duration `yaml:"backoff" json:"backoff,omitempty"`
}

// Request is a request template. URL, header values and Body may contain
// {{seq}} (the op's sequence number), {{uuid}} (a fresh UUID from the run's
// seeded random source), {{key}} and {{env "NAME"}}.
type Request struct {
	Method  string            `yaml:"method" json:"method"`
	URL     string            `yaml:"url" json:"url"`
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
	Body    string            `yaml:"body" json:"body,omitempty"`
}

// OutcomeRules classify HTTP statuses. Each entry is a code ("409"), a class
// ("2xx") or a range ("200-204"). Unlisted statuses are unknown.
type OutcomeRules struct {
	// OK statuses; default ["2xx"].
	OK []string `yaml:"ok" json:"ok,omitempty"`
	// Fail statuses; default ["4xx"].
	Fail []string `yaml:"fail" json:"fail,omitempty"`
}

// Invariant is one property checked after the run: its common fields,
// and the fields of its checker (Fields), which the checker decodes and
// documents itself (invariants.Register; docs/extending.md).
type Invariant struct {
	// Name is the human sentence shown in tables.
	Name string `yaml:"name" json:"name"`
	// Check is the checker's registered name; when empty it is inferred
	// from a field named after a checker that allows it (expect: …, unique:
	// …).
	Check string `yaml:"check" json:"check,omitempty"`
	// Query is the SQL (or Redis command) whose result the checker reads,
	// run after the attack; for the checkers that read one.
	Query string `yaml:"query" json:"query,omitempty"`
	// Op names the operation whose history ops the checker reads, for the
	// history-aware checkers (counter, exactly_one, locks …).
	Op string `yaml:"op" json:"op,omitempty"`
	// Unit and Thing are the domain's words, read by every checker for its
	// explanation of a failure: Unit is what the checked number counts
	// ("units of stock", "cents"), Thing what a key or row is ("product",
	// "account"). Both are optional; without them the words are neutral
	// ("40", "key 7").
	Unit  string `yaml:"unit" json:"unit,omitempty"`
	Thing string `yaml:"thing" json:"thing,omitempty"`

	// Fields are the invariant's other fields, its checker's own (step,
	// ttl, read_op …): kept as YAML for the checker to decode.
	Fields CheckerFields `yaml:"-" json:"-"`
}

// VerdictPolicy tunes the overall verdict.
type VerdictPolicy struct {
	// MaxUnknown is the largest fraction of unknown ops (0..1) with which a
	// clean run still passes; above it the verdict is unknown (default 0.5).
	MaxUnknown *float64 `yaml:"max_unknown" json:"max_unknown,omitempty"`
}

// Duration is a time.Duration written as "250ms", "2s", "1m30s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a Go duration string; a bare 0 is allowed.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 250ms or 2s")
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. 250ms, 2s, 1m)", n.Value)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Rate is a request rate: Freq requests every Per. Freq 0 means "max": as
// fast as the workers allow.
type Rate struct {
	Freq int
	Per  time.Duration
}

// Max reports whether the rate is unbounded.
func (r Rate) Max() bool { return r.Freq == 0 }

// String formats r as "300/1s" or "max".
func (r Rate) String() string {
	if r.Max() {
		return "max"
	}
	return fmt.Sprintf("%d/%s", r.Freq, r.Per)
}

// PerSecond is the rate in requests per second.
func (r Rate) PerSecond() float64 {
	if r.Max() || r.Per <= 0 {
		return 0
	}
	return float64(r.Freq) / r.Per.Seconds()
}

// ParseRate parses "300/s", "300/1s", "10/100ms", "300" (per second) or "max".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "max" || s == "0" {
		return Rate{}, nil
	}
	num, per, found := strings.Cut(s, "/")
	freq, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || freq < 0 {
		return Rate{}, fmt.Errorf("invalid rate %q (want e.g. 300/s, 10/100ms or max)", s)
	}
	r := Rate{Freq: freq, Per: time.Second}
	if found {
		per = strings.TrimSpace(per)
		if per != "" && (per[0] < '0' || per[0] > '9') {
			per = "1" + per
		}
		d, err := time.ParseDuration(per)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("invalid rate %q: bad period %q (want e.g. s, 100ms)", s, per)
		}
		r.Per = d
	}
	return r, nil
}

// UnmarshalYAML parses a rate string.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a rate such as 300/s")
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalYAML writes the rate string.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// MarshalJSON writes the rate string.
func (r Rate) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(r.String())), nil }

// UnmarshalJSON reads a rate string.
func (r *Rate) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return err
	}
	v, err := ParseRate(s)
	*r = v
	return err
}
