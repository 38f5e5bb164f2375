package harness

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/stacks"
)

// startStack brings up what the profile attacks: the safety checks, the
// checkers' database connection, the chaos links and the service (demo or a
// running URL). It returns the base URL the attack sends to — the target
// link's address when the target link is used. Everything it starts is
// registered for cleanup.
func (r *run) startStack(ctx context.Context) (string, error) {
	p := r.p
	allowRemote := r.o.AllowRemote || p.AllowRemote
	dbDSN := p.Database.DSN
	if p.Database.Driver == "sqlite" && dbDSN == "" {
		dbDSN = filepath.Join(r.o.OutDir, "demo.db")
	}
	if !allowRemote {
		if err := r.checkLocal(ctx, dbDSN); err != nil {
			return "", err
		}
	}
	db, err := invariants.Open(ctx, p.Database.Driver, dbDSN)
	if err != nil {
		return "", envErr("stack", fmt.Errorf("database %s: %w", invariants.RedactDSN(dbDSN), err))
	}
	r.db = db
	r.onCleanup(db.Close)

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
		r.onCleanup(func() error {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return r.ch.Close(cctx)
		})
	}

	targetURL := p.Target.URL
	if d := p.Target.Demo; d != nil {
		cfg := demo.Config{Mode: d.Mode, Driver: p.Database.Driver, DSN: dbDSN, Think: d.Think.D()}
		if r.pl.links["database"] {
			upstream, err := stacks.PostgresHostPort(dbDSN)
			if err != nil {
				return "", envErr("stack", err)
			}
			link, err := r.ch.AddLink(ctx, "database", upstream)
			if err != nil {
				return "", envErr("chaos", err)
			}
			if cfg.DSN, err = stacks.RewritePostgresHost(dbDSN, link.Listen); err != nil {
				return "", envErr("stack", err)
			}
			r.logf("database link %s → %s", link.Listen, upstream)
		}
		// Setup before the demo opens would race its schema creation; the demo
		// creates its schema in Open, so it starts first.
		dm, err := stacks.StartDemo(ctx, cfg)
		if err != nil {
			return "", envErr("stack", err)
		}
		r.onCleanup(dm.Close)
		targetURL = dm.URL()
		r.logf("demo service (%s, %s) on %s", d.Mode, p.Database.Driver, targetURL)
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
