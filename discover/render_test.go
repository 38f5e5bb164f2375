package discover_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/collide-dev/collide/discover"
)

// TestRender: captures replace {{name}} in URL, header values and body; a
// placeholder without a value is an error naming the request.
func TestRender(t *testing.T) {
	r := discover.Request{
		ID: "openapi:GET /resources/{id}", Method: "GET", URL: "/resources/{{resource}}",
		Header: http.Header{"Authorization": {"Bearer {{token}}"}},
		Body:   []byte(`{"owner":"{{token}}"}`),
	}
	cases := []struct {
		name    string
		vars    map[string]string
		wantURL string
		wantErr string
	}{
		{"every capture given", map[string]string{"token": "T0K", "resource": "7"}, "/resources/7", ""},
		{"a capture missing", map[string]string{"token": "T0K"}, "", "openapi:GET /resources/{id}: url: unknown placeholder {{resource}}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Render(c.vars)
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one starting %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != c.wantURL || got.Header.Get("Authorization") != "Bearer T0K" || string(got.Body) != `{"owner":"T0K"}` {
				t.Errorf("rendered %+v", got)
			}
			if r.Header.Get("Authorization") != "Bearer {{token}}" {
				t.Errorf("Render changed its receiver's header: %v", r.Header)
			}
		})
	}
}
