package invariants

import (
	"github.com/collide-dev/collide/profiles"
)

// flatInv is an invariant written the short way in tests: the common fields
// and every checker's fields side by side, as YAML has them. inv turns it
// into a profiles.Invariant whose checker fields are YAML, as Parse makes
// it, so that the tests go through each checker's decoding.
type flatInv struct {
	Name, Check, Query, Op, Unit, Thing string

	Expect      string            `yaml:"expect,omitempty"`
	Unique      string            `yaml:"unique,omitempty"`
	Step        float64           `yaml:"step,omitempty"`
	Amount      float64           `yaml:"amount,omitempty"`
	Floor       *float64          `yaml:"floor,omitempty"`
	ValueFrom   string            `yaml:"value_from,omitempty"`
	VersionFrom string            `yaml:"version_from,omitempty"`
	Group       string            `yaml:"group,omitempty"`
	PerKey      bool              `yaml:"per_key,omitempty"`
	Require     bool              `yaml:"require,omitempty"`
	ReadOp      string            `yaml:"read_op,omitempty"`
	WriteOp     string            `yaml:"write_op,omitempty"`
	ReadFrom    string            `yaml:"read_from,omitempty"`
	TTL         profiles.Duration `yaml:"ttl,omitempty"`
	Slack       profiles.Duration `yaml:"slack,omitempty"`
	Timeout     profiles.Duration `yaml:"timeout,omitempty"`
}

func (f flatInv) inv() profiles.Invariant {
	own := f
	own.Name, own.Check, own.Query, own.Op, own.Unit, own.Thing = "", "", "", "", "", ""
	return profiles.Invariant{Name: f.Name, Check: f.Check, Query: f.Query, Op: f.Op, Unit: f.Unit, Thing: f.Thing,
		Fields: profiles.NewCheckerFields(flatOwn(own))}
}

// flatOwn is flatInv without its common fields, for YAML.
type flatOwn struct {
	Name, Check, Query, Op, Unit, Thing string `yaml:"-"`

	Expect      string            `yaml:"expect,omitempty"`
	Unique      string            `yaml:"unique,omitempty"`
	Step        float64           `yaml:"step,omitempty"`
	Amount      float64           `yaml:"amount,omitempty"`
	Floor       *float64          `yaml:"floor,omitempty"`
	ValueFrom   string            `yaml:"value_from,omitempty"`
	VersionFrom string            `yaml:"version_from,omitempty"`
	Group       string            `yaml:"group,omitempty"`
	PerKey      bool              `yaml:"per_key,omitempty"`
	Require     bool              `yaml:"require,omitempty"`
	ReadOp      string            `yaml:"read_op,omitempty"`
	WriteOp     string            `yaml:"write_op,omitempty"`
	ReadFrom    string            `yaml:"read_from,omitempty"`
	TTL         profiles.Duration `yaml:"ttl,omitempty"`
	Slack       profiles.Duration `yaml:"slack,omitempty"`
	Timeout     profiles.Duration `yaml:"timeout,omitempty"`
}

func testNew(f flatInv) (Checker, error) { return New(f.inv()) }

func testCheckName(f flatInv) string { return CheckName(f.inv()) }
