package harness

import (
	"context"
	"fmt"

	"github.com/collide-dev/collide/invariants"
	"github.com/collide-dev/collide/profiles"
)

// resolveKeys runs the key query of every operation that has one (keys:
// {query: …}) after setup and before the attack, and gives the operation
// the values to draw {{key}} from — or the values a repeated setup step
// captured (keys: {capture: …}). A query that fails or returns no rows
// stops the run before any load, naming the operation and the query.
func (r *run) resolveKeys(ctx context.Context) error {
	for i, s := range r.pl.specs {
		if s.KeyCapture != "" {
			keys := r.lists[s.KeyCapture]
			if v, ok := r.vars[s.KeyCapture]; ok && len(keys) == 0 {
				keys = []string{v} // a step that ran once: one key
			}
			if len(keys) == 0 {
				return envErr("setup", fmt.Errorf("operations[%d] %q: keys from the setup capture %q: setup captured none", i, s.Name, s.KeyCapture))
			}
			r.pl.specs[i] = s.WithKeys(keys)
			r.logf("operations[%d] %q: %d keys from the setup capture %q", i, s.Name, len(keys), s.KeyCapture)
			continue
		}
		if s.KeyQuery == "" {
			continue
		}
		keys, err := invariants.KeyValues(ctx, r.bound, s.KeyQuery, profiles.MaxKeys)
		if err != nil {
			return envErr("setup", fmt.Errorf("operations[%d] %q: keys query %q: %w", i, s.Name, s.KeyQuery, err))
		}
		r.pl.specs[i] = s.WithKeys(keys)
		r.logf("operations[%d] %q: %d keys from its query", i, s.Name, len(keys))
	}
	return nil
}
