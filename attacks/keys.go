package attacks

import (
	"fmt"
	"strconv"
)

// WithKeys returns a copy of s whose {{key}} draws from keys: the values a
// key query (KeyQuery) returned after setup. s itself is not changed.
func (s *Spec) WithKeys(keys []string) *Spec {
	c := *s
	c.KeyValues = append([]string(nil), keys...)
	c.Keys = max(len(keys), 1)
	return &c
}

// keysReady reports an operation whose keys come from a query that was not
// run: its {{key}} would have nothing to draw from.
func (s *Spec) keysReady() error {
	if s.KeyQuery != "" && len(s.KeyValues) == 0 && s.uses(segKey) {
		return fmt.Errorf("attacks: %s: keys come from the query %q, which has not given any (run it after setup and attack with Spec.WithKeys)", s.Name, s.KeyQuery)
	}
	if s.KeyCapture != "" && len(s.KeyValues) == 0 && s.uses(segKey) {
		return fmt.Errorf("attacks: %s: keys come from the setup capture %q, which has not given any (attack with Spec.WithKeys)", s.Name, s.KeyCapture)
	}
	return nil
}

// drawKey draws the key of one request with intn (the run's seeded source):
// one of KeyValues, or key-<n> with n in [0, Keys).
func (s *Spec) drawKey(intn func(int) int) string {
	if n := len(s.KeyValues); n > 0 {
		if n == 1 {
			return s.KeyValues[0]
		}
		return s.KeyValues[intn(n)]
	}
	k := 0
	if s.Keys > 1 {
		k = intn(s.Keys)
	}
	return "key-" + strconv.Itoa(k)
}
