package profiles

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/collide-dev/collide/database"
)

// Stack defaults; docs/profiles.md and docs/stacks.md list them.
const (
	DefaultHealthTimeout  = 30 * time.Second
	DefaultServicePort    = 8080
	DefaultPostgresImage  = "postgres:15-alpine"
	DefaultToxiproxyImage = "ghcr.io/shopify/toxiproxy:2.12.0"
	DefaultCommandURL     = "http://127.0.0.1:{{port}}"
	defaultDBUser         = "collide"
	defaultDBPassword     = "collide"
	defaultDBName         = "collide"
)

// CommandTarget is a service collide starts as a child process and stops
// after the run. Run, Env values and URL may hold the placeholders {{port}}
// (a free loopback port collide picks) and {{database_dsn}} (the DSN the
// service must use: through the database chaos link when the profile has one).
type CommandTarget struct {
	// Run is the program and its arguments, e.g. ["./bin/shop", "--listen",
	// "127.0.0.1:{{port}}"]. No shell is involved.
	Run []string `yaml:"run" json:"run"`
	// Env is added to collide's own environment for the service.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
	// Dir is the working directory (default: collide's).
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Health is a path polled until it answers 2xx; empty: until any HTTP
	// answer to GET /.
	Health string `yaml:"health" json:"health,omitempty"`
	// HealthTimeout bounds the wait for health (default 30s).
	HealthTimeout Duration `yaml:"health_timeout" json:"health_timeout,omitempty"`
	// URL is the service's base URL (default http://127.0.0.1:{{port}}).
	URL string `yaml:"url" json:"url,omitempty"`
}

// ContainerTarget is a service run in a container, on a private Docker
// network with the database container and a Toxiproxy container: the
// service reaches its database, and the attacker the service, through
// Toxiproxy. Cmd and Env values may hold {{port}} (Port) and
// {{database_dsn}}.
type ContainerTarget struct {
	// Image is the service's image, e.g. ghcr.io/acme/shop:1.4.
	Image string `yaml:"image" json:"image,omitempty"`
	// Build builds the image from a Dockerfile instead.
	Build *ContainerBuild `yaml:"build" json:"build,omitempty"`
	// Cmd replaces the image's command (its entry point stays).
	Cmd []string `yaml:"cmd" json:"cmd,omitempty"`
	// Env is the service's environment.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
	// Port is the container port the service listens on (default 8080).
	Port int `yaml:"port" json:"port,omitempty"`
	// Health is a path polled until it answers 2xx; empty: until any HTTP
	// answer to GET /.
	Health string `yaml:"health" json:"health,omitempty"`
	// HealthTimeout bounds the wait for health (default 30s).
	HealthTimeout Duration `yaml:"health_timeout" json:"health_timeout,omitempty"`
	// ToxiproxyImage is the Toxiproxy image (default
	// ghcr.io/shopify/toxiproxy:2.12.0).
	ToxiproxyImage string `yaml:"toxiproxy_image" json:"toxiproxy_image,omitempty"`
}

// ContainerBuild is a Dockerfile to build the service's image from.
type ContainerBuild struct {
	// Context is the build context folder, relative to collide's working
	// directory.
	Context string `yaml:"context" json:"context"`
	// Dockerfile is the file's path inside Context (default Dockerfile).
	Dockerfile string `yaml:"dockerfile" json:"dockerfile,omitempty"`
	// Args are build arguments (ARG in the Dockerfile).
	Args map[string]string `yaml:"args" json:"args,omitempty"`
}

// DatabaseContainer is a PostgreSQL database collide starts in a container
// for the run and removes afterwards; collide fills in the DSN.
type DatabaseContainer struct {
	// Image is a PostgreSQL image compatible with the official one (default
	// postgres:15-alpine).
	Image string `yaml:"image" json:"image,omitempty"`
	// User, Password and Name set up the database (default collide, collide,
	// collide).
	User     string `yaml:"user" json:"user,omitempty"`
	Password string `yaml:"password" json:"password,omitempty"`
	Name     string `yaml:"name" json:"name,omitempty"`
}

// StackPlaceholders are the placeholders a command or container target may
// use in its command, environment and URL.
var StackPlaceholders = []string{"port", "database_dsn"}

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// stackTarget validates target.command and target.container; target()
// calls it.
func (v *validator) stackTarget() {
	t := v.p.Target
	if c := t.Command; c != nil {
		const path = "target.command"
		if len(c.Run) == 0 || c.Run[0] == "" {
			v.errf(path+".run", `required: the program and its arguments, e.g. ["./bin/shop", "--listen", "127.0.0.1:{{port}}"]`)
		}
		for i, a := range c.Run {
			v.placeholders(indexPath(path+".run", i), a)
		}
		v.stackEnv(path+".env", c.Env)
		v.health(path, c.Health, c.HealthTimeout)
		if c.URL != "" {
			v.placeholders(path+".url", c.URL)
			probe := placeholderRE.ReplaceAllString(c.URL, "1")
			if u, err := url.Parse(probe); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.errf(path+".url", "invalid URL %s (want an absolute http:// URL, e.g. http://127.0.0.1:{{port}})", quote(c.URL))
			}
		}
	}
	if c := t.Container; c != nil {
		const path = "target.container"
		switch {
		case c.Image == "" && c.Build == nil:
			v.errf(path, "set image (the service's image) or build (a Dockerfile to build)")
		case c.Image != "" && c.Build != nil:
			v.errf(path, "set image or build, not both")
		}
		if b := c.Build; b != nil && b.Context == "" {
			v.errf(path+".build.context", "required: the build context folder, e.g. .")
		}
		for i, a := range c.Cmd {
			v.placeholders(indexPath(path+".cmd", i), a)
		}
		v.stackEnv(path+".env", c.Env)
		if c.Port < 0 || c.Port > 65535 {
			v.errf(path+".port", "%d is not a port (want 1 to 65535; default 8080)", c.Port)
		}
		v.health(path, c.Health, c.HealthTimeout)
		if v.p.Database.Container == nil {
			v.errf(path, "needs database.container: the service reaches its database on the stack's private network")
		}
	}
}

func (v *validator) stackEnv(path string, env map[string]string) {
	for k, val := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			v.errf(path, "invalid variable name %s", quote(k))
			continue
		}
		v.placeholders(path+"."+k, val)
	}
}

func (v *validator) health(path, health string, timeout Duration) {
	if health != "" && !strings.HasPrefix(health, "/") {
		v.errf(path+".health", "invalid path %s (want a path such as /healthz)", quote(health))
	}
	if timeout < 0 {
		v.errf(path+".health_timeout", "must not be negative")
	}
}

// placeholders reports {{name}} placeholders that a stack does not fill.
func (v *validator) placeholders(path, s string) {
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if !contains(StackPlaceholders, m[1]) {
			v.errf(path, "unknown placeholder %s (want {{port}} or {{database_dsn}})", quote(m[0]))
			return
		}
	}
}

// databaseContainer validates database.container; database() calls it
// with the profile's driver (nil when unknown).
func (v *validator) databaseContainer(drv database.Driver) {
	d := v.p.Database
	if d.Container == nil {
		return
	}
	if drv != nil && !drv.Features().Container {
		can := database.NamesWhere(func(d database.Driver) bool { return d.Features().Container })
		v.errf("database.container", "needs driver %s (got %s)", database.Join(can), quote(d.Driver))
	}
	if d.DSN != "" {
		v.errf("database.dsn", "set dsn (a running database) or container (collide starts one), not both")
	}
	if v.p.Target.URL != "" {
		v.errf("database.container", "a service at target.url cannot be told the container's DSN: use a demo, command or container target")
	}
	for _, f := range []struct{ name, val string }{{"user", d.Container.User}, {"name", d.Container.Name}} {
		if f.val != "" && !matches(f.val, "abcdefghijklmnopqrstuvwxyz0123456789_") {
			v.errf("database.container."+f.name, "invalid %s %s (want lowercase letters, digits and _)", f.name, quote(f.val))
		}
	}
}

// applyStackDefaults fills the defaults of command and container targets
// and of database containers; applyDefaults calls it.
func (p *Profile) applyStackDefaults() {
	if c := p.Target.Command; c != nil {
		if c.HealthTimeout == 0 {
			c.HealthTimeout = Duration(DefaultHealthTimeout)
		}
		if c.URL == "" {
			c.URL = DefaultCommandURL
		}
	}
	if c := p.Target.Container; c != nil {
		if c.HealthTimeout == 0 {
			c.HealthTimeout = Duration(DefaultHealthTimeout)
		}
		if c.Port == 0 {
			c.Port = DefaultServicePort
		}
		if c.ToxiproxyImage == "" {
			c.ToxiproxyImage = DefaultToxiproxyImage
		}
		if b := c.Build; b != nil && b.Dockerfile == "" {
			b.Dockerfile = "Dockerfile"
		}
	}
	if d := p.Database.Container; d != nil {
		if d.Image == "" {
			d.Image = DefaultPostgresImage
		}
		if d.User == "" {
			d.User = defaultDBUser
		}
		if d.Password == "" {
			d.Password = defaultDBPassword
		}
		if d.Name == "" {
			d.Name = defaultDBName
		}
	}
}

// targetKinds lists the target kinds set in t, for "set only one" errors.
func targetKinds(t Target) []string {
	var kinds []string
	if t.URL != "" {
		kinds = append(kinds, "url")
	}
	if t.Demo != nil {
		kinds = append(kinds, "demo")
	}
	if t.Command != nil {
		kinds = append(kinds, "command")
	}
	if t.Container != nil {
		kinds = append(kinds, "container")
	}
	return kinds
}

// stackTargetError is the target error when zero or several kinds are set.
func stackTargetError(kinds []string) string {
	if len(kinds) == 0 {
		return "required: set url (a running service), demo (the built-in demo), command (a program collide starts) or container (an image collide runs)"
	}
	return fmt.Sprintf("set one of url, demo, command or container, not several (got %s)", strings.Join(kinds, " and "))
}
