package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/collide-dev/collide/database/sqlite"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/harness"
	"github.com/collide-dev/collide/stacks"
)

// demoOptions are the flags of `collide demo`, checked before any I/O.
type demoOptions struct {
	cfg         demo.Config
	listen      string
	allowRemote bool
}

func (o *demoOptions) check(ctx context.Context) error {
	if err := o.cfg.Validate(); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", o.listen, err)
	}
	if !o.allowRemote {
		if err := stacks.CheckLoopback(ctx, "listen address", host); err != nil {
			return err
		}
	}
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := demoOptions{}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cfg.Mode, "mode", "racy", "racy or safe")
	fs.StringVar(&o.cfg.Driver, "db", sqlite.Name, "sqlite, postgres or mysql (MariaDB or MySQL)")
	fs.StringVar(&o.cfg.DSN, "dsn", "collide-demo.db", "database file (sqlite) or DSN (postgres: postgres://…; mysql: user:pass@tcp(127.0.0.1:3306)/db or mysql://user:pass@127.0.0.1:3306/db)")
	fs.DurationVar(&o.cfg.Think, "think", 0, "artificial work time between a handler's read and write (0: none; the races are real without it)")
	fs.Float64Var(&o.cfg.Slowdown, "slowdown", 0, "hold every response back this fraction of its handling time, e.g. 0.3: a 30% slower service (for testing regression gates)")
	fs.StringVar(&o.cfg.RedisURL, "redis", "", "Redis URL for the locks endpoint, e.g. redis://127.0.0.1:6379/0 (default: PostgreSQL advisory locks, MariaDB GET_LOCK, or a lease table on SQLite)")
	fs.Uint64Var(&o.cfg.Seed, "seed", 0, "seed of the random job durations and bulk pauses (0: random)")
	fs.IntVar(&o.cfg.MaxConns, "max-conns", 0, "database connection pool size (0: 32)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow a listen address outside loopback")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if err := o.check(ctx); err != nil {
		fmt.Fprintln(stderr, "collide demo:", err)
		return harness.ExitUsage
	}
	svc, err := demo.Open(ctx, o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "collide demo:", err)
		return harness.ExitEnv
	}
	defer svc.Close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		fmt.Fprintln(stderr, "collide demo:", err)
		return harness.ExitEnv
	}
	srv := svc.HTTPServer() // HTTP/1.1 and h2c
	fmt.Fprintf(stdout, "demo service (%s, %s, locks on %s) on http://%s — Ctrl-C to stop\n", o.cfg.Mode, o.cfg.Driver, svc.LockBackend(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return 0
	case err := <-errc:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "collide demo:", err)
			return harness.ExitEnv
		}
		return 0
	}
}
