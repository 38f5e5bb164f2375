package discover_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
)

// TestFromOpenAPI: each document becomes the requests of its golden file.
func TestFromOpenAPI(t *testing.T) {
	cases := []struct {
		name string
		file string
		data func(t *testing.T) []byte
	}{
		{"the demo's document", "openapi.json", func(*testing.T) []byte { return demo.OpenAPI() }},
		{"yaml with placeholders, prefix and setup order", "shop.yaml", func(t *testing.T) []byte { return readTestdata(t, "openapi/shop.yaml") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := discover.FromOpenAPI(c.file, c.data(t))
			if err != nil {
				t.Fatal(err)
			}
			requestsGolden(t, filepath.Join("testdata", "openapi", strings.TrimSuffix(c.file, filepath.Ext(c.file))+".golden.json"), rs)
		})
	}
}

// TestFromOpenAPIDemoCoverage: the demo's document gives one request per
// route, login and the resource setup first.
func TestFromOpenAPIDemoCoverage(t *testing.T) {
	rs, err := discover.FromOpenAPI("openapi.json", demo.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 30 {
		t.Errorf("%d requests, want one per route (34)", len(rs))
	}
	if len(rs) < 2 || rs[0].ID != "openapi:POST /login" || rs[1].ID != "openapi:POST /resources" || !rs[0].Setup || !rs[1].Setup {
		t.Fatalf("first requests %+v, want the setup POST /login then POST /resources", rs[:min(2, len(rs))])
	}
	for _, r := range rs[2:] {
		if r.Setup {
			t.Errorf("%s: setup after the others", r.ID)
		}
	}
}

// TestFromOpenAPIErrors: a document that does not parse or is not OpenAPI
// 3 is one InputError naming the file (and line:col where the parser knows).
func TestFromOpenAPIErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		want string
	}{
		{"json missing a comma", "broken.json", `broken.json:8:5: invalid JSON: invalid character '"' after object key:value pair`},
		{"yaml mapping value in a plain scalar", "broken.yaml", `broken.yaml:8:22: invalid YAML: mapping values are not allowed in this context`},
		{"swagger 2", "swagger2.json", `swagger2.json: no "openapi" version field: want an OpenAPI 3 document (convert a Swagger 2 one first)`},
		{"x-collide-setup not a flag", "bad-setup.yaml", `bad-setup.yaml:5:5: paths./login.post: x-collide-setup: want true, false or a number, got yes`},
		{"path parameter without definition", "undefined-param.yaml", `undefined-param.yaml: invalid OpenAPI 3 document: `},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := discover.FromOpenAPI(c.file, readTestdata(t, "openapi/"+c.file))
			var ie *discover.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want an *InputError", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error\n%s\nwant one line starting\n%s", err, c.want)
			}
		})
	}
}
