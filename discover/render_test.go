package discover_test

import (
	"maps"
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

// TestCaptured: a request's Capture taken from its JSON response.
func TestCaptured(t *testing.T) {
	login := discover.Request{ID: "openapi:POST /login", Capture: map[string]string{"token": "token", "user": "user.id"}}
	cases := []struct {
		name    string
		r       discover.Request
		body    string
		want    map[string]string
		wantErr string
	}{
		{"every path present", login, `{"token":"T0K","user":{"id":3}}`, map[string]string{"token": "T0K", "user": "3"}, ""},
		{"a path missing", login, `{"token":"T0K"}`, nil, "openapi:POST /login: capture: the response has no user"},
		{"not JSON", login, `<html>`, nil, "openapi:POST /login: capture token, user: response is not JSON"},
		{"nothing to capture", discover.Request{ID: "x"}, `<html>`, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.r.Captured([]byte(c.body))
			if c.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one starting %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, c.want) {
				t.Errorf("captured %v, want %v", got, c.want)
			}
		})
	}
}
