package profiles

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/database"
	_ "github.com/collide-dev/collide/database/all" // the drivers database.driver may name
)

// MaxRequests caps the requests of one operation, whatever its rate and
// duration say: every request loop is bounded in count (by this, Requests
// or Rate × Duration) and in time (by Duration, or by Requests × Timeout).
const MaxRequests = 10_000_000

// httpMethods are the methods a request may use.
var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}

// validator collects errors; Parse reports the first in document order.
type validator struct {
	p    *Profile
	errs []*Error
	// members maps an operation released by another's burst (burst.of) to
	// that operation's name.
	members map[string]string
	// lists maps the captures of repeated setup steps to where they are
	// defined: lists an operation's keys may come from; vars likewise the
	// captures of steps that run once.
	lists, vars map[string]string
}

func (v *validator) errf(field, format string, args ...any) {
	v.errs = append(v.errs, v.p.Errorf(field, format, args...))
}

// validate checks the decoded profile and returns its first error in
// document order, or nil.
func (p *Profile) validate() *Error {
	v := &validator{p: p, lists: map[string]string{}}
	v.profile()
	if len(v.errs) == 0 {
		return nil
	}
	sortErrors(v.errs)
	return v.errs[0]
}

func (v *validator) profile() {
	p := v.p
	if p.Version != 0 && p.Version != Version {
		v.errf("version", "unsupported version %d (this collide reads version %d)", p.Version, Version)
	}
	switch {
	case p.Name == "":
		v.errf("name", "required")
	case !matches(p.Name, "abcdefghijklmnopqrstuvwxyz0123456789-"):
		v.errf("name", "invalid name %s (want lowercase letters, digits and -, e.g. counter-race)", quote(p.Name))
	}
	v.audit()
	v.target()
	v.database()
	vars := map[string]string{}
	v.vars = vars
	v.steps("setup", p.Setup, vars)
	teardownVars := make(map[string]string, len(vars))
	for k, f := range vars {
		teardownVars[k] = f
	}
	v.steps("teardown", p.Teardown, teardownVars)
	v.varNames(vars)
	for i, f := range p.Chaos {
		v.fault(fmt.Sprintf("chaos[%d]", i), f)
	}
	if len(p.Operations) == 0 {
		v.errf("operations", "at least one operation is required")
	}
	names := map[string]string{}
	v.members = burstMembers(p.Operations)
	for i, o := range p.Operations {
		path := fmt.Sprintf("operations[%d]", i)
		v.operation(path, o)
		if o.Name != "" {
			if first, dup := names[o.Name]; dup {
				v.errf(path+".name", "duplicate operation name %s (%s)", quote(o.Name), v.where(first))
			} else {
				names[o.Name] = path + ".name"
			}
		}
	}
	if p.Settle < 0 {
		v.errf("settle", "must not be negative")
	}
	if len(p.Invariants) == 0 {
		v.errf("invariants", "at least one invariant is required")
	}
	inames := map[string]string{}
	for i, inv := range p.Invariants {
		path := fmt.Sprintf("invariants[%d]", i)
		v.invariant(path, inv)
		if inv.Name != "" {
			if first, dup := inames[inv.Name]; dup {
				v.errf(path+".name", "duplicate invariant name %s (%s)", quote(inv.Name), v.where(first))
			} else {
				inames[inv.Name] = path + ".name"
			}
		}
	}
	if mu := p.Verdict.MaxUnknown; mu != nil && !(*mu >= 0 && *mu <= 1) {
		v.errf("verdict.max_unknown", "%v is out of range (want 0 to 1)", *mu)
	}
}

// audit checks the audit metadata: an id of the form TEST-RC-003 and a
// resource.
func (v *validator) audit() {
	a := v.p.Audit
	if a == nil {
		return
	}
	if a.ID == "" {
		v.errf("audit.id", "required (e.g. TEST-RC-006)")
	} else if !ValidAuditID(a.ID) {
		v.errf("audit.id", "invalid id %s (want upper-case words joined by -, e.g. TEST-RC-006)", quote(a.ID))
	}
	if strings.TrimSpace(a.Resource) == "" {
		v.errf("audit.resource", "required (the shared resource, e.g. accounts.balance)")
	}
	for _, f := range []struct{ name, text string }{
		{"resource", a.Resource}, {"pattern", a.Pattern}, {"protection", a.Protection}, {"title", a.Title},
	} {
		if strings.ContainsAny(f.text, "\n\r") {
			v.errf("audit."+f.name, "must be one line")
		}
	}
}

// ValidAuditID reports whether id is an audit test id: upper-case letters
// and digits in at least two words joined by "-" (TEST-RC-006, SEC-OVERSELL).
func ValidAuditID(id string) bool {
	words := strings.Split(id, "-")
	if len(words) < 2 || len(id) > 64 {
		return false
	}
	for _, w := range words {
		if w == "" || !matches(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") {
			return false
		}
	}
	return words[0][0] >= 'A' && words[0][0] <= 'Z'
}

// where names the first occurrence of a duplicate: its path and line.
func (v *validator) where(path string) string {
	if l := v.p.Line(path); l > 0 {
		return fmt.Sprintf("first at %s, line %d", path, l)
	}
	return "first at " + path
}

func (v *validator) target() {
	t := v.p.Target
	if kinds := targetKinds(t); len(kinds) != 1 {
		v.errf("target", "%s", stackTargetError(kinds))
	}
	v.stackTarget()
	if t.URL != "" {
		u, err := url.Parse(t.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.errf("target.url", "invalid URL %s (want an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080)", quote(t.URL))
		}
	}
	if d := t.Demo; d != nil {
		switch d.Mode {
		case "racy", "safe":
		case "":
			v.errf("target.demo.mode", "required (racy or safe)")
		default:
			v.errf("target.demo.mode", "invalid mode %s (want racy or safe)", quote(d.Mode))
		}
		if d.Think < 0 {
			v.errf("target.demo.think", "must not be negative")
		}
		if d.Slowdown < 0 || d.Slowdown > 10 || d.Slowdown != d.Slowdown {
			v.errf("target.demo.slowdown", "must be a fraction from 0 to 10 (0.3: 30%% slower)")
		}
	}
}

func (v *validator) database() {
	d := v.p.Database
	if d.Driver == "" {
		v.errf("database.driver", "required (%s)", database.Join(database.Names()))
		v.databaseContainer(nil)
		return
	}
	drv, err := database.Lookup(d.Driver)
	if err != nil {
		v.errf("database.driver", "unsupported driver %s (want %s)", quote(d.Driver), database.Join(database.Names()))
		v.databaseContainer(nil)
		return
	}
	kinds := targetKinds(v.p.Target)
	target := ""
	if len(kinds) == 1 {
		target = kinds[0]
	}
	for _, pr := range drv.Check(database.Setting{DSN: d.DSN, Container: d.Container != nil, Target: target}) {
		v.errf(pr.Field, "%s", pr.Msg)
	}
	if dm := v.p.Target.Demo; dm != nil {
		f := drv.Features()
		switch {
		case !f.Demo && !f.LockStore:
			demo := database.NamesWhere(func(d database.Driver) bool { return d.Features().Demo })
			store := database.NamesWhere(func(d database.Driver) bool { return d.Features().LockStore && !d.Features().Demo })
			v.errf("database.driver", "the demo service runs on %s (or keeps its locks in %s), not %s", database.Join(demo), database.Join(store), d.Driver)
		case !f.Demo && dm.Redis != "":
			v.errf("target.demo.redis", "not with driver %s: database.dsn is the demo's lock store already", d.Driver)
		}
	}
	v.databaseContainer(drv)
}

func (v *validator) fault(path string, f Fault) {
	switch f.Link {
	case "target", "database":
	case "":
		v.errf(path+".link", "required (target or database)")
	default:
		v.errf(path+".link", "invalid link %s (want target or database)", quote(f.Link))
	}
	if f.Fault == "" {
		_, err := fault.Lookup("") // required (one of …)
		v.errf(path+".fault", "%v", err)
	}
	switch f.Stream {
	case "", "upstream", "downstream":
	default:
		v.errf(path+".stream", "invalid stream %s (want upstream or downstream)", quote(f.Stream))
	}
	if t := f.Toxicity; t != nil && !(*t >= 0 && *t <= 1) {
		v.errf(path+".toxicity", "%v is out of range (want 0 to 1)", *t)
	}
	for _, d := range []struct {
		name string
		d    Duration
	}{{"from", f.From}, {"for", f.For}} {
		if d.d < 0 {
			v.errf(path+"."+d.name, "must not be negative")
		}
	}
	// The kind's own fields were decoded and checked with the entry
	// (decodeFault).
	if f.Link == "target" || f.Link == "database" {
		if err := f.CheckWire(v.p.Database.Driver); err != nil {
			fe, _ := err.(*fault.FieldError)
			v.errf(path+"."+fe.Field, "%s", fe.Msg)
		}
	}
}

func (v *validator) operation(path string, o Operation) {
	switch {
	case o.Name == "":
		v.errf(path+".name", "required")
	case !matches(o.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"):
		v.errf(path+".name", "invalid name %s (want letters, digits, _ and -)", quote(o.Name))
	}
	if len(o.Flow) > 0 {
		if o.Request.Method != "" || o.Request.URL != "" {
			v.errf(path+".request", "set request or flow, not both")
		}
		if o.Burst != nil && len(o.Burst.Of) > 0 {
			v.errf(path+".burst.of", "a flow's burst releases copies of its last step; it cannot name other operations")
		}
		if len(o.Capture) > 0 {
			v.errf(path+".capture", "in a flow, captures belong to its steps")
		}
		seen := map[string]bool{}
		for i, st := range o.Flow {
			sp := indexPath(path+".flow", i)
			switch {
			case st.Name == "":
				v.errf(sp+".name", "required")
			case !matches(st.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"):
				v.errf(sp+".name", "invalid name %s (want letters, digits, _ and -)", quote(st.Name))
			case seen[st.Name]:
				v.errf(sp+".name", "duplicate step name %s", quote(st.Name))
			}
			seen[st.Name] = true
			v.request(sp+".request", st.Request)
			v.captures(sp+".capture", st.Capture)
		}
	} else if o.Burst == nil || len(o.Burst.Of) == 0 {
		v.request(path+".request", o.Request)
		v.captures(path+".capture", o.Capture)
	}
	v.burst(path, o)
	if o.Retry.Max < 0 || o.Retry.Max > 10 {
		v.errf(path+".retry.max", "must be between 0 and 10 (got %d)", o.Retry.Max)
	}
	if o.RampTo != nil && o.RampTo.Max() {
		v.errf(path+".ramp_to", "a ramp needs a paced end rate such as 500/s")
	}
	if o.RampTo != nil && o.Rate.Max() {
		v.errf(path+".rate", "a ramp needs a paced start rate such as 10/s")
	}

	if o.Requests < 0 {
		v.errf(path+".requests", "must not be negative (got %d)", o.Requests)
	} else if o.Requests > MaxRequests {
		v.errf(path+".requests", "%d is above the limit of %d requests per operation", o.Requests, MaxRequests)
	}
	if o.Bursts < 0 {
		v.errf(path+".bursts", "must not be negative (got %d)", o.Bursts)
	} else if o.Bursts > 0 && o.Burst == nil {
		v.errf(path+".bursts", "counts bursts, but the operation has no burst (use requests, or set burst)")
	} else if o.Bursts > 0 && o.Requests > 0 {
		v.errf(path+".bursts", "set bursts or requests, not both")
	} else if o.Bursts > 0 && o.Burst != nil && o.Bursts*max(o.Burst.Size(), 1) > MaxRequests {
		v.errf(path+".bursts", "%d bursts of %d is above the limit of %d requests per operation", o.Bursts, o.Burst.Size(), MaxRequests)
	}
	if member := v.members[o.Name]; member != "" {
		// Its requests are sent by another operation's burst: it has no
		// pacing of its own.
		for _, f := range []struct {
			name string
			set  bool
		}{{"rate", !o.Rate.Max()}, {"duration", o.Duration != 0}, {"requests", o.Requests != 0}, {"bursts", o.Bursts != 0}, {"ramp_to", o.RampTo != nil}} {
			if f.set {
				v.errf(path+"."+f.name, "operation %s is released by %s's burst (burst.of), so it has no %s of its own", quote(o.Name), quote(member), f.name)
			}
		}
		return
	}
	budget := o.Requests
	if o.Bursts > 0 {
		budget = o.Bursts
	}
	switch {
	case o.Duration < 0:
		v.errf(path+".duration", "must not be negative")
	case o.Duration == 0 && budget <= 0:
		if o.Rate.Max() && v.p.has(path+".rate") {
			v.errf(path+".rate", "max needs a bound: set duration or requests")
		} else {
			v.errf(path+".duration", "required (or set requests)")
		}
	case !o.Rate.Max() && o.Duration > 0 && float64(o.Rate.Freq)*float64(o.Duration) < float64(o.Rate.Per):
		v.errf(path+".rate", "%s for %s sends nothing: it sends one %s every %s (raise rate or duration)", o.Rate, o.Duration, unit(o), time.Duration(int64(o.Rate.Per)/int64(max(o.Rate.Freq, 1))))
	case budget == 0 && !o.Rate.Max():
		if n := paced(o.Rate, o.Duration) * float64(max(o.Burst.Size(), 1)); n > MaxRequests {
			v.errf(path+".rate", "%s for %s is %.0f requests, above the limit of %d per operation (lower rate or duration, or set requests)", o.Rate, o.Duration, n, MaxRequests)
		}
	}
	if o.Workers < 0 {
		v.errf(path+".workers", "must not be negative (got %d)", o.Workers)
	}
	switch {
	case o.MaxWorkers < 0:
		v.errf(path+".max_workers", "must not be negative (got %d)", o.MaxWorkers)
	case o.MaxWorkers > 0 && o.MaxWorkers < o.Workers:
		v.errf(path+".max_workers", "%d is less than workers (%d)", o.MaxWorkers, o.Workers)
	}
	if o.Timeout < 0 {
		v.errf(path+".timeout", "must not be negative")
	}
	v.keys(path+".keys", o.Keys)
	okSet := v.statuses(path+".outcome.ok", o.Outcome.OK)
	failSet := v.statuses(path+".outcome.fail", o.Outcome.Fail)
	if !okSet.Empty() && !failSet.Empty() {
		if c := okSet.overlap(failSet); c != 0 {
			v.errf(path+".outcome.fail", "status %d is also in ok", c)
		}
	}
}

// unit is what the operation's rate paces: requests, or bursts.
func unit(o Operation) string {
	if o.Burst != nil {
		return "burst"
	}
	return "request"
}

// burstMembers maps each operation named in another operation's burst.of
// to the name of that operation.
func burstMembers(ops []Operation) map[string]string {
	m := map[string]string{}
	for _, o := range ops {
		if o.Burst == nil {
			continue
		}
		for _, name := range o.Burst.Of {
			if _, seen := m[name]; !seen {
				m[name] = o.Name
			}
		}
	}
	return m
}

// burst checks an operation's burst: its size, and the operations a mixed
// burst names.
func (v *validator) burst(path string, o Operation) {
	b := o.Burst
	if b == nil {
		return
	}
	if b.Copies < 1 || b.Copies > 1000 {
		v.errf(path+".burst.copies", "must be between 1 and 1000 (got %d)", b.Copies)
	}
	switch b.Fallback {
	case "", "last-byte", "barrier":
	default:
		v.errf(path+".burst.fallback", "invalid fallback %s (want last-byte or barrier)", quote(b.Fallback))
	}
	if b.Fallback != "" && b.Sync != "single-packet" {
		v.errf(path+".burst.fallback", "only single-packet falls back (sync is %s)", quote(b.Sync))
	}
	if b.Size() > 1000 {
		v.errf(path+".burst.of", "%d requests × %d copies is %d per burst, above the limit of 1000", len(b.Of), b.Copies, b.Size())
	}
	seen := map[string]bool{}
	for i, name := range b.Of {
		ip := indexPath(path+".burst.of", i)
		var target *Operation
		for j := range v.p.Operations {
			if v.p.Operations[j].Name == name {
				target = &v.p.Operations[j]
			}
		}
		switch {
		case name == o.Name:
			v.errf(ip, "an operation's burst names itself; list the other operations it releases, or drop of")
		case seen[name]:
			v.errf(ip, "%s is listed twice", quote(name))
		case target == nil:
			var names []string
			for _, op := range v.p.Operations {
				if op.Name != o.Name {
					names = append(names, op.Name)
				}
			}
			hint := ""
			if best, ok := Nearest(name, names); ok {
				hint = "did you mean " + quote(best) + "? "
			}
			v.errf(ip, "no operation named %s (%sother operations: %s)", quote(name), hint, orNone(names))
		case target.Burst != nil:
			v.errf(ip, "%s has a burst of its own; a burst releases plain requests", quote(name))
		case len(target.Flow) > 0:
			v.errf(ip, "%s is a flow; a burst releases plain requests", quote(name))
		case v.members[name] != o.Name:
			v.errf(ip, "%s is already released by %s's burst", quote(name), quote(v.members[name]))
		}
		seen[name] = true
	}
	if len(b.Of) > 0 && (o.Request.Method != "" || o.Request.URL != "") {
		v.errf(path+".request", "a burst of other operations (burst.of) sends their requests; drop this request")
	}
}

// paced is the number of requests a paced rate sends in d.
func paced(r Rate, d Duration) float64 {
	if r.Per <= 0 {
		return math.Inf(1)
	}
	return math.Ceil(float64(r.Freq) * float64(d) / float64(r.Per))
}

// statuses validates outcome entries one by one and returns the set.
func (v *validator) statuses(path string, specs []string) StatusSet {
	ok := true
	for i, s := range specs {
		if _, err := parseStatus(s); err != nil {
			v.errf(indexPath(path, i), "%v", err)
			ok = false
		}
	}
	if !ok {
		return StatusSet{}
	}
	return mustStatusSet(specs)
}

// captures checks capture names (template variables) and their JSON paths.
func (v *validator) captures(path string, c map[string]string) {
	for name, jp := range c {
		switch {
		case !matches(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") || name == "":
			v.errf(path+"."+name, "invalid capture name %s (want letters, digits and _)", quote(name))
		case name == "seq" || name == "uuid" || name == "key" || name == "env":
			v.errf(path+"."+name, "%s is a built-in template value; pick another capture name", quote(name))
		case jp == "":
			v.errf(path+"."+name, "want a JSON path such as data.version")
		}
	}
}

func (v *validator) request(path string, r Request) {
	switch {
	case r.Method == "":
		v.errf(path+".method", "required (e.g. GET or POST)")
	case !contains(httpMethods, r.Method):
		if up := strings.ToUpper(r.Method); contains(httpMethods, up) {
			v.errf(path+".method", "invalid method %s (methods are upper case: %s)", quote(r.Method), up)
		} else {
			v.errf(path+".method", "invalid method %s (want %s or %s)", quote(r.Method), strings.Join(httpMethods[:len(httpMethods)-1], ", "), httpMethods[len(httpMethods)-1])
		}
	}
	switch {
	case r.URL == "":
		v.errf(path+".url", "required (a path such as /counters/1, relative to the target)")
	case strings.HasPrefix(r.URL, "/"):
	case strings.HasPrefix(r.URL, "http://") || strings.HasPrefix(r.URL, "https://"):
		host := r.URL[strings.Index(r.URL, "://")+3:]
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if host == "" {
			v.errf(path+".url", "invalid URL %s (no host)", quote(r.URL))
		}
	default:
		v.errf(path+".url", "invalid URL %s (want a path starting with /, relative to the target, or an absolute http(s) URL)", quote(r.URL))
	}
	for name := range r.Headers {
		if !matches(name, headerChars) {
			v.errf(path+".headers."+name, "invalid header name %s (want letters, digits and !#$%%&'*+-.^_`|~)", quote(name))
		}
	}
}

func (v *validator) invariant(path string, inv Invariant) {
	if inv.Name == "" {
		v.errf(path+".name", "required (a sentence saying what must hold)")
	}
	names := v.p.OperationNames()
	if inv.Op != "" && len(v.p.Operations) > 0 && !contains(names, inv.Op) {
		v.errf(path+".op", "%s", UnknownName("operation", "operations", inv.Op, names))
	}
	// The checker's own fields (inv.Fields) are the checker's to decode and
	// check: invariants.New, called when the profile is compiled.
}

// headerChars are the characters of an HTTP header name (RFC 9110 token).
const headerChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"

// matches reports whether s is non-empty and made only of chars.
func matches(s, chars string) bool {
	return s != "" && strings.Trim(s, chars) == ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
