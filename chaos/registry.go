package chaos

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/profiles"
)

// Kind is one fault kind: how a profiles.Fault of that kind is checked and
// which Toxiproxy toxic it becomes. Each kind lives in its own file and
// registers itself from init, in the manner of Toxiproxy's toxics registry.
type Kind interface {
	// Name is the fault name used in profiles, e.g. "latency".
	Name() string
	// Validate checks the kind-specific fields of f. Messages start with the
	// field name as written in profiles, e.g. "latency: must be > 0", so the
	// caller can prefix a path such as "chaos[1].".
	Validate(f profiles.Fault) error
	// Toxic returns the Toxiproxy toxic type and its attributes for f, in
	// Toxiproxy's units (durations in whole milliseconds, rates in KB/s,
	// sizes in bytes). f has passed Validate.
	Toxic(f profiles.Fault) (toxicType string, attrs client.Attributes)
}

var registry = struct {
	sync.RWMutex
	kinds map[string]Kind
}{kinds: map[string]Kind{}}

// Register makes a fault kind available by its name. It panics if the name is
// empty or already registered: both are programming errors.
func Register(k Kind) {
	name := k.Name()
	if name == "" {
		panic("chaos: Register of a kind with an empty name")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[name]; dup {
		panic("chaos: Register called twice for fault " + name)
	}
	registry.kinds[name] = k
}

// Lookup returns the registered kind called name. An unknown name gives an
// error that lists the known names.
func Lookup(name string) (Kind, error) {
	registry.RLock()
	k, ok := registry.kinds[name]
	registry.RUnlock()
	if !ok {
		if name == "" {
			return nil, fmt.Errorf("fault: required (one of %s)", strings.Join(Names(), ", "))
		}
		return nil, fmt.Errorf("fault: unknown fault %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return k, nil
}

// Names lists the registered fault names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.kinds))
	for n := range registry.kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Link names a fault may use in a profile.
const (
	LinkTarget   = "target"   // attacker → service under test
	LinkDatabase = "database" // service → database
)

// Toxiproxy stream directions.
const (
	Downstream = "downstream" // data flowing from upstream back to the client (default)
	Upstream   = "upstream"   // data flowing from the client to upstream
)

// Validate checks a profile fault: link must be "target" or "database",
// stream "", "upstream" or "downstream", toxicity in [0,1], from and for not
// negative, then the kind's own checks (which also reject fields the kind does
// not use). Messages name the field, e.g. "toxicity: must be between 0 and 1,
// got 1.5"; the caller adds the path of the fault in the profile.
func Validate(f profiles.Fault) error {
	switch f.Link {
	case LinkTarget, LinkDatabase:
	case "":
		return fmt.Errorf("link: required (target or database)")
	default:
		return fmt.Errorf("link: must be target or database, got %q", f.Link)
	}
	return validateFault(f)
}

// validateFault is Validate without the link name check (Apply works on any
// link the Chaos has).
func validateFault(f profiles.Fault) error {
	k, err := Lookup(f.Fault)
	if err != nil {
		return err
	}
	switch f.Stream {
	case "", Upstream, Downstream:
	default:
		return fmt.Errorf("stream: must be upstream or downstream, got %q", f.Stream)
	}
	if f.Toxicity != nil && !(*f.Toxicity >= 0 && *f.Toxicity <= 1) {
		return fmt.Errorf("toxicity: must be between 0 and 1, got %g", *f.Toxicity)
	}
	if f.From < 0 {
		return fmt.Errorf("from: must not be negative, got %s", f.From)
	}
	if f.For < 0 {
		return fmt.Errorf("for: must not be negative, got %s", f.For)
	}
	return k.Validate(f)
}

// streamOf is f's stream with the default applied.
func streamOf(f profiles.Fault) string {
	if f.Stream == "" {
		return Downstream
	}
	return f.Stream
}

// toxicityOf is f's toxicity with the default (1) applied.
func toxicityOf(f profiles.Fault) float64 {
	if f.Toxicity == nil {
		return 1
	}
	return *f.Toxicity
}

// ms converts d to the whole milliseconds Toxiproxy takes (truncating).
func ms(d profiles.Duration) int64 { return d.D().Milliseconds() }

// onlyFields rejects kind-specific fields that the fault kind does not use, so
// that e.g. "delay" written on a latency fault is reported, not ignored.
func onlyFields(f profiles.Fault, used ...string) error {
	set := map[string]bool{
		"latency": f.Latency != 0,
		"jitter":  f.Jitter != 0,
		"timeout": f.Timeout != 0,
		"rate":    f.Rate != 0,
		"delay":   f.Delay != 0,
		"bytes":   f.Bytes != 0,
	}
	for _, u := range used {
		delete(set, u)
	}
	var bad []string
	for name, isSet := range set {
		if isSet {
			bad = append(bad, name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("%s: not used by fault %s (it takes: %s)", bad[0], f.Fault, takes(used))
}

func takes(used []string) string {
	if len(used) == 0 {
		return "no parameters"
	}
	return strings.Join(used, ", ")
}

// checkMillis checks a duration that Toxiproxy takes in whole milliseconds.
// required: it must be > 0; otherwise it must be 0 or at least 1ms.
func checkMillis(field string, d profiles.Duration, required bool) error {
	switch {
	case d < 0:
		return fmt.Errorf("%s: must not be negative, got %s", field, d)
	case d == 0 && required:
		return fmt.Errorf("%s: must be > 0", field)
	case d > 0 && d.D() < time.Millisecond:
		return fmt.Errorf("%s: must be at least 1ms (Toxiproxy works in whole milliseconds), got %s", field, d)
	}
	return nil
}
