package discover

import "testing"

// TestTemplatePath: segments naming one resource become {id}.
func TestTemplatePath(t *testing.T) {
	cases := []struct{ name, path, want string }{
		{"number", "/counters/1/increment", "/counters/{id}/increment"},
		{"uuid", "/carts/6f1c2a9e-0d2b-4c1e-9a43-5b7f0c1d2e3f/lines", "/carts/{id}/lines"},
		{"object id", "/users/507f1f77bcf86cd799439011", "/users/{id}"},
		{"words stay", "/api/v2/orders", "/api/v2/orders"},
		{"short hex stays", "/colors/beef", "/colors/beef"},
		{"empty is root", "", "/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := templatePath(c.path); got != c.want {
				t.Errorf("templatePath(%q) = %q, want %q", c.path, got, c.want)
			}
		})
	}
}

// TestLoopbackHost: loopback addresses and localhost names, without
// resolving.
func TestLoopbackHost(t *testing.T) {
	cases := []struct {
		name string
		host string
		want bool
	}{
		{"ipv4 loopback", "127.0.0.1", true},
		{"ipv4 loopback range", "127.3.2.1", true},
		{"ipv6 loopback", "::1", true},
		{"localhost", "localhost", true},
		{"localhost subdomain", "shop.localhost", true},
		{"fully qualified localhost", "LOCALHOST.", true},
		{"private address", "10.0.0.5", false},
		{"public name", "api.shop.example", false},
		{"name ending like localhost", "notlocalhost", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := loopbackHost(c.host); got != c.want {
				t.Errorf("loopbackHost(%q) = %v, want %v", c.host, got, c.want)
			}
		})
	}
}

// TestOffsetLineCol: encoding/json offsets (past the offending byte) to
// 1-based line and column.
func TestOffsetLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": 1\n  \"b\": 2\n}")
	cases := []struct {
		name      string
		offset    int64
		line, col int
	}{
		{"first byte", 1, 1, 1},
		{"third line", 14, 3, 3},
		{"before the start", 0, 1, 1},
		{"past the end", 999, 4, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if l, col := offsetLineCol(data, c.offset); l != c.line || col != c.col {
				t.Errorf("offsetLineCol(%d) = %d:%d, want %d:%d", c.offset, l, col, c.line, c.col)
			}
		})
	}
}
