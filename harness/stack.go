package harness

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/chaos/tap"
	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/database/postgres"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/profiles"
	"github.com/collide-dev/collide/stacks"
)

// ServiceLog is the file in the run folder that receives the output of a
// command or container target.
const ServiceLog = "service.log"

// startsService reports whether collide starts the service under test (and
// so can point it at the database link): demo, command or container.
func startsService(p *profiles.Profile) bool {
	t := p.Target
	return t.Demo != nil || t.Command != nil || t.Container != nil
}

// startStack brings up what the profile attacks: the safety checks, the
// database (a container, when asked), the checkers' connection to it, the
// chaos links and the service (demo, command, container, or a running URL).
// It returns the base URL the attack sends to — the target link's address
// when the target link is used. Everything it starts is registered for
// cleanup, which runs even when it fails half-way.
func (r *run) startStack(ctx context.Context) (string, error) {
	p := r.p
	t := p.Target
	if t.Container != nil && r.o.ToxiproxyURL != "" {
		return "", &ProfileError{p.Errorf("target.container", "cannot use --toxiproxy: a container stack runs its own Toxiproxy on its private network")}
	}
	switch {
	case t.Command != nil && len(t.Command.Run) > 0:
		r.res.Target = "command " + t.Command.Run[0]
	case t.Container != nil && t.Container.Build != nil:
		r.res.Target = "container built from " + filepath.Join(t.Container.Build.Context, t.Container.Build.Dockerfile)
	case t.Container != nil:
		r.res.Target = "container " + t.Container.Image
	}
	allowRemote := r.o.AllowRemote || p.AllowRemote
	drv, err := database.Lookup(p.Database.Driver)
	if err != nil {
		return "", &ProfileError{p.Errorf("database.driver", "%v", err)}
	}
	dbDSN := p.Database.DSN
	if drv.Features().InProcess && dbDSN == "" {
		// The service opens the database file itself: one in the run folder.
		name := "demo.db"
		if t.Command != nil {
			name = "service.db"
		}
		dbDSN = filepath.Join(r.o.OutDir, name)
	}
	if !allowRemote {
		if err := r.checkLocal(ctx, dbDSN); err != nil {
			return "", err
		}
	}

	// A database container comes first: the checkers connect to it.
	var dk *stacks.Docker
	var pg *stacks.Postgres
	if dc := p.Database.Container; dc != nil {
		start := time.Now()
		var err error
		if dk, err = stacks.NewDocker(ctx, r.res.RunID, r.o.OutDir); err != nil {
			return "", envErr("stack", fmt.Errorf("database.container: %w", err))
		}
		r.onCleanup(dk.Close)
		pg, err = dk.StartPostgres(ctx, stacks.PostgresConfig{Image: dc.Image, User: dc.User, Password: dc.Password, Database: dc.Name})
		if err != nil {
			return "", envErr("stack", fmt.Errorf("database.container: %w", err))
		}
		dbDSN = pg.HostDSN
		r.res.Database = "postgres container " + dc.Image
		r.logf("database container %s ready in %s (network %s)", dc.Image, time.Since(start).Round(time.Millisecond), dk.NetworkName())
	}

	db, err := database.Open(ctx, p.Database.Driver, dbDSN)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("database %s: %w", database.Redact(p.Database.Driver, dbDSN), err))
	}
	r.db = db
	r.onCleanup(db.Close)

	if t.Container != nil {
		return r.startContainerService(ctx, dk, pg)
	}

	if len(r.pl.links) > 0 {
		apiURL := r.o.ToxiproxyURL
		if apiURL == "" {
			emb, err := chaos.StartEmbedded(ctx)
			if err != nil {
				return "", envErr("chaos", err)
			}
			r.onCleanup(emb.Close)
			apiURL = emb.URL()
		}
		r.ch = chaos.New(apiURL, r.res.RunID)
		r.onCleanup(r.closeChaos)
		if r.o.ToxiproxyURL != "" {
			r.cleanLeftovers(ctx)
		}
	}

	// The DSN the service uses: through the database link when there is one.
	svcDSN := dbDSN
	if r.pl.links["database"] {
		// compile checked both for a DSN of the profile; a container's
		// DSN comes from collide.
		_, upstream, err := drv.Address(dbDSN)
		if err != nil {
			return "", &ProfileError{p.Errorf("database.dsn", "driver %s: %v", drv.Name(), err)}
		}
		link, err := r.ch.AddLink(ctx, "database", upstream)
		if err != nil {
			return "", envErr("chaos", err)
		}
		front := link.Listen
		if r.pl.tap {
			// service → tap → Toxiproxy → database: the tap's faults and
			// the toxics both apply.
			proto, err := tap.ProtocolNamed(drv.Features().Wire)
			if err != nil {
				return "", envErr("chaos", fmt.Errorf("driver %s: %w", drv.Name(), err))
			}
			tp, err := r.ch.StartTap(ctx, chaos.LinkDatabase, proto)
			if err != nil {
				return "", envErr("chaos", err)
			}
			front = tp.Addr()
			r.logf("database tap (%s) %s → %s", proto, front, link.Listen)
		}
		if svcDSN, err = drv.Through(dbDSN, front); err != nil {
			return "", &ProfileError{p.Errorf("database.dsn", "driver %s: %v", drv.Name(), err)}
		}
		r.logf("database link %s → %s", link.Listen, upstream)
	}

	targetURL := t.URL
	switch {
	case t.Demo != nil:
		d := t.Demo
		cfg := demo.Config{Mode: d.Mode, Driver: p.Database.Driver, DSN: svcDSN, Think: d.Think.D(), Slowdown: d.Slowdown,
			RedisURL: d.Redis, Seed: uint64(r.res.Seed)}
		if f := drv.Features(); f.LockStore && !f.Demo {
			// The database is the demo's lock store (through the database
			// link when there is one); its tables live in a file of the
			// in-process driver it runs on, in the run folder.
			if cfg.Driver, err = demoFileDriver(); err != nil {
				return "", envErr("stack", err)
			}
			cfg.DSN, cfg.RedisURL = filepath.Join(r.o.OutDir, "demo.db"), svcDSN
			r.logf("demo lock store: %s %s; demo tables: %s %s", drv.Name(), database.Redact(drv.Name(), svcDSN), cfg.Driver, cfg.DSN)
		}
		// Setup before the demo opens would race its schema creation; the demo
		// creates its schema in Open, so it starts first.
		dm, err := stacks.StartDemo(ctx, cfg)
		if err != nil {
			return "", envErr("stack", err)
		}
		r.onCleanup(dm.Close)
		r.arrivals = dm.Arrivals
		targetURL = dm.URL()
		r.logf("demo service (%s, %s) on %s", d.Mode, cfg.Driver, targetURL)
	case t.Command != nil:
		if targetURL, err = r.startCommand(ctx, svcDSN, allowRemote); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(targetURL)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.url", "%v", err)}
	}
	r.targetAddr = u.Host
	if err := reachable(ctx, u.Host); err != nil {
		return "", envErr("stack", fmt.Errorf("target %s unreachable: %w", targetURL, err))
	}
	baseURL := strings.TrimRight(targetURL, "/")
	if r.pl.links["target"] {
		link, err := r.ch.AddLink(ctx, "target", u.Host)
		if err != nil {
			return "", envErr("chaos", err)
		}
		baseURL = u.Scheme + "://" + link.Listen + strings.TrimRight(u.Path, "/")
		r.logf("target link %s → %s", link.Listen, u.Host)
	}

	return baseURL, nil
}

// demoFileDriver is the driver the demo keeps its tables on when the
// profile's database is only its lock store: the first registered driver
// that runs inside the service (a file) and that the demo runs on.
func demoFileDriver() (string, error) {
	names := database.NamesWhere(func(d database.Driver) bool { f := d.Features(); return f.InProcess && f.Demo })
	if len(names) == 0 {
		return "", fmt.Errorf("demo: no in-process driver to keep its tables on")
	}
	return names[0], nil
}

func (r *run) closeChaos() error {
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.ch.Close(cctx)
}

// startCommand starts target.command on a free loopback port, pointed at
// svcDSN, and returns its base URL once it is healthy.
func (r *run) startCommand(ctx context.Context, svcDSN string, allowRemote bool) (string, error) {
	p := r.p
	c := p.Target.Command
	port, err := stacks.FreePort()
	if err != nil {
		return "", envErr("stack", fmt.Errorf("target.command: %w", err))
	}
	vars := map[string]string{stacks.PlaceholderPort: strconv.Itoa(port), stacks.PlaceholderDatabaseDSN: svcDSN}
	args, err := stacks.ExpandAll(c.Run, vars)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.command.run", "%v", err)}
	}
	env, err := stacks.ExpandEnv(c.Env, vars)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.command.env", "%v", err)}
	}
	rawURL := c.URL
	if rawURL == "" {
		rawURL = profiles.DefaultCommandURL
	}
	targetURL, err := stacks.Expand(rawURL, vars)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.command.url", "%v", err)}
	}
	u, err := url.Parse(targetURL)
	if err != nil || u.Host == "" {
		return "", &ProfileError{p.Errorf("target.command.url", "invalid URL %q", targetURL)}
	}
	if !allowRemote {
		if err := stacks.CheckLoopback(ctx, "target", u.Hostname()); err != nil {
			return "", &ProfileError{p.Errorf("target.command.url", "%v", err)}
		}
	}
	timeout := c.HealthTimeout.D()
	if timeout <= 0 {
		timeout = profiles.DefaultHealthTimeout
	}
	start := time.Now()
	logPath := filepath.Join(r.o.OutDir, ServiceLog)
	cmd, err := stacks.StartCommand(ctx, stacks.CommandConfig{
		Args: args, Env: env, Dir: c.Dir, URL: targetURL,
		Health: c.Health, HealthTimeout: timeout, LogPath: logPath,
	})
	if err != nil {
		return "", envErr("stack", fmt.Errorf("target.command: %w", err))
	}
	r.onCleanup(func() error {
		if exited, werr := cmd.Exited(); exited {
			r.logf("service %s had exited during the run (%v); see %s", args[0], werr, logPath)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("target.command: %w", err)
		}
		return nil
	})
	r.logf("service %s (pid %d) healthy on %s in %s; log %s", args[0], cmd.PID(), targetURL, time.Since(start).Round(time.Millisecond), logPath)
	return targetURL, nil
}

// startContainerService completes a container stack whose database is up:
// Toxiproxy, the database link, the service, the target link. The service
// reaches the database and the attacker reaches the service through
// Toxiproxy, on fixed ports inside its container; the attacker uses the
// target port's 127.0.0.1 mapping on the host.
func (r *run) startContainerService(ctx context.Context, dk *stacks.Docker, pg *stacks.Postgres) (string, error) {
	p := r.p
	c := p.Target.Container
	start := time.Now()
	image := c.ToxiproxyImage
	if image == "" {
		image = profiles.DefaultToxiproxyImage
	}
	tp, err := dk.StartToxiproxy(ctx, image)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("target.container.toxiproxy_image: %w", err))
	}
	r.ch = chaos.New(tp.APIURL, r.res.RunID)
	r.onCleanup(r.closeChaos)
	dbListen := net.JoinHostPort("0.0.0.0", strconv.Itoa(stacks.ToxiproxyDatabasePort))
	if _, err := r.ch.AddLinkAt(ctx, "database", dbListen, pg.NetAddr); err != nil {
		return "", envErr("chaos", err)
	}
	svcDSN, err := postgres.Driver{}.Through(pg.NetDSN, net.JoinHostPort(stacks.ToxiproxyAlias, strconv.Itoa(stacks.ToxiproxyDatabasePort)))
	if err != nil {
		return "", envErr("stack", err)
	}
	r.logf("toxiproxy container ready; database link %s:%d → %s", stacks.ToxiproxyAlias, stacks.ToxiproxyDatabasePort, pg.NetAddr)

	port := c.Port
	if port == 0 {
		port = profiles.DefaultServicePort
	}
	vars := map[string]string{stacks.PlaceholderPort: strconv.Itoa(port), stacks.PlaceholderDatabaseDSN: svcDSN}
	cmd, err := stacks.ExpandAll(c.Cmd, vars)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.container.cmd", "%v", err)}
	}
	env, err := stacks.ExpandEnv(c.Env, vars)
	if err != nil {
		return "", &ProfileError{p.Errorf("target.container.env", "%v", err)}
	}
	timeout := c.HealthTimeout.D()
	if timeout <= 0 {
		timeout = profiles.DefaultHealthTimeout
	}
	cfg := stacks.ServiceConfig{Image: c.Image, Cmd: cmd, Env: env, Port: port, Health: c.Health, HealthTimeout: timeout}
	what := c.Image
	if b := c.Build; b != nil {
		cfg.BuildContext, cfg.Dockerfile, cfg.BuildArgs = b.Context, b.Dockerfile, b.Args
		if cfg.Dockerfile == "" {
			cfg.Dockerfile = "Dockerfile"
		}
		what = "build " + filepath.Join(b.Context, cfg.Dockerfile)
	}
	svc, err := dk.StartService(ctx, cfg)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("target.container: %w", err))
	}
	targetListen := net.JoinHostPort("0.0.0.0", strconv.Itoa(stacks.ToxiproxyTargetPort))
	if _, err := r.ch.AddLinkAt(ctx, "target", targetListen, svc.NetAddr); err != nil {
		return "", envErr("chaos", err)
	}
	hostAddr, err := tp.HostAddr(ctx, stacks.ToxiproxyTargetPort)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("target.container: %w", err))
	}
	if su, err := url.Parse(svc.HostURL); err == nil {
		r.targetAddr = su.Host // the service's own published port, not the link's
	}
	r.logf("service container (%s) healthy in %s; target link %s → %s; service log %s",
		what, time.Since(start).Round(time.Millisecond), hostAddr, svc.NetAddr, filepath.Join(r.o.OutDir, ServiceLog))
	return "http://" + hostAddr, nil
}

// cleanLeftovers removes, from an external Toxiproxy server, the proxies
// of collide runs whose process is gone (killed with -9, a crashed host
// process), one log line each. Proxies of live runs, and of other hosts,
// are left alone. A failure is a log line: the run's own links do not
// depend on it.
func (r *run) cleanLeftovers(ctx context.Context) {
	ls, err := r.ch.CleanLeftovers(ctx, chaos.CleanOptions{})
	for _, l := range ls {
		r.logf("toxiproxy: %s", l)
	}
	if err != nil {
		r.logf("toxiproxy: leftovers: %v", err)
	}
}
