package attacks

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// TestKeysRendered: whatever form keys takes, {{key}} renders one of its
// values in the URL, header and body, and the op's history key is that
// value; the vegeta path and the iteration path (burst, flow) agree.
func TestKeysRendered(t *testing.T) {
	from, to := int64(7), int64(9)
	var mu sync.Mutex
	seen := map[string]int{} // key from the URL → requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := strings.TrimPrefix(r.URL.Path, "/items/")
		b := make([]byte, 256)
		n, _ := r.Body.Read(b)
		if r.Header.Get("X-Key") != k || (n > 0 && string(b[:n]) != `{"key":"`+k+`"}`) {
			w.WriteHeader(http.StatusBadRequest) // the three renders disagree
			return
		}
		mu.Lock()
		seen[k]++
		mu.Unlock()
	}))
	defer srv.Close()

	list := []string{"alice", "bob smith", "42"}
	cases := []struct {
		name  string
		keys  profiles.Keys
		with  []string // Spec.WithKeys (a key query's rows)
		want  []string
		burst int
		flow  bool
	}{
		{name: "list", keys: profiles.Keys{List: list}, want: list},
		{name: "range", keys: profiles.Keys{From: &from, To: &to}, want: []string{"7", "8", "9"}},
		{name: "query", keys: profiles.Keys{Query: "SELECT id FROM items"}, with: []string{"101", "102"}, want: []string{"101", "102"}},
		{name: "count", keys: profiles.Keys{Count: 2}, want: []string{"key-0", "key-1"}},
		{name: "list in bursts", keys: profiles.Keys{List: list}, want: list, burst: 3},
		{name: "list in a flow", keys: profiles.Keys{List: list}, want: list, flow: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			clear(seen)
			mu.Unlock()
			req := profiles.Request{Method: "POST", URL: "/items/{{key}}", Headers: map[string]string{"X-Key": "{{key}}"}, Body: `{"key":"{{key}}"}`}
			op := profiles.Operation{Name: "op", Request: req, Keys: c.keys,
				Rate: profiles.Rate{Freq: 500, Per: time.Second}, Duration: profiles.Duration(5 * time.Second), Requests: 60, Workers: 4}
			if c.burst > 0 {
				op.Burst = &profiles.Burst{Copies: c.burst}
			}
			if c.flow {
				op.Request = profiles.Request{}
				op.Flow = []profiles.Step{{Name: "a", Request: req}, {Name: "b", Request: req}}
			}
			s, err := NewSpec(op)
			if err != nil {
				t.Fatal(err)
			}
			if c.with != nil {
				s = s.WithKeys(c.with)
			}
			path := filepath.Join(t.TempDir(), "h.jsonl")
			hw, err := history.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Run(context.Background(), Options{BaseURL: srv.URL, History: hw, Rand: rand.New(rand.NewPCG(3, 4))}, []*Spec{s}); err != nil {
				t.Fatal(err)
			}
			if err := hw.Close(); err != nil {
				t.Fatal(err)
			}
			ops, err := history.ReadAll(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(ops) < 60 {
				t.Fatalf("%d ops, want at least 60", len(ops))
			}
			keys := map[string]int{}
			for _, o := range ops {
				if o.Outcome != history.OK {
					t.Fatalf("op %+v: the URL, header and body rendered different keys", o)
				}
				keys[o.Key]++
			}
			mu.Lock()
			defer mu.Unlock()
			for k, n := range keys {
				if !slices.Contains(c.want, k) {
					t.Errorf("op key %q is not one of %q", k, c.want)
				}
				if seen[k] != n {
					t.Errorf("key %q: %d ops, but the server saw it %d times", k, n, seen[k])
				}
			}
			if len(keys) != len(c.want) {
				t.Errorf("keys drawn %v, want every one of %q", keys, c.want)
			}
		})
	}
}

// TestKeysDrawnFromTheSeed: the same seed draws the same keys, and a list
// draws as a count of the same size does (same calls on the source).
func TestKeysDrawnFromTheSeed(t *testing.T) {
	draw := func(s *Spec, seed uint64) []string {
		r := rand.New(rand.NewPCG(seed, seed))
		var out []string
		for range 50 {
			out = append(out, s.drawKey(r.IntN))
		}
		return out
	}
	list, _ := NewSpec(profiles.Operation{Name: "a", Request: profiles.Request{URL: "/{{key}}"}, Requests: 1, Keys: profiles.Keys{List: []string{"x", "y", "z"}}})
	count, _ := NewSpec(profiles.Operation{Name: "b", Request: profiles.Request{URL: "/{{key}}"}, Requests: 1, Keys: profiles.Keys{Count: 3}})
	a, b, c := draw(list, 9), draw(list, 9), draw(count, 9)
	if !slices.Equal(a, b) {
		t.Fatal("one seed drew different keys")
	}
	names := map[string]string{"x": "key-0", "y": "key-1", "z": "key-2"}
	for i := range a {
		if names[a[i]] != c[i] {
			t.Fatalf("draw %d: list gave %q, count %q", i, a[i], c[i])
		}
	}
	one, _ := NewSpec(profiles.Operation{Name: "c", Request: profiles.Request{URL: "/{{key}}"}, Requests: 1, Keys: profiles.Keys{List: []string{"only"}}})
	if k := one.drawKey(func(int) int { panic("drew for one key") }); k != "only" {
		t.Fatalf("one key: %q", k)
	}
}

// TestKeyQueryNotRun: attacking with keys from a query nobody ran is an
// error before any request; WithKeys leaves the original spec alone.
func TestKeyQueryNotRun(t *testing.T) {
	s, err := NewSpec(profiles.Operation{Name: "q", Request: profiles.Request{URL: "/{{key}}"}, Requests: 1, Keys: profiles.Keys{Query: "SELECT id FROM t"}})
	if err != nil {
		t.Fatal(err)
	}
	hw := history.NewWriter(&strings.Builder{})
	_, err = Run(context.Background(), Options{BaseURL: "http://127.0.0.1:1", History: hw, Rand: rand.New(rand.NewPCG(1, 2))}, []*Spec{s})
	if err == nil || !strings.Contains(err.Error(), `"SELECT id FROM t"`) || hw.Len() != 0 {
		t.Fatalf("err = %v, %d ops: want an error naming the query and no request", err, hw.Len())
	}
	w := s.WithKeys([]string{"1"})
	if s.KeyValues != nil || w.KeyQuery != s.KeyQuery || w.Keys != 1 || w.KeyValues[0] != "1" {
		t.Fatalf("WithKeys: %+v from %+v", w, s)
	}
}
