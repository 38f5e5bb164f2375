package demo

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI loads and validates the embedded document with kin-openapi.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI())
	if err != nil {
		t.Fatalf("demo/openapi.json: load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("demo/openapi.json: validate: %v", err)
	}
	return doc
}

// TestOpenAPIValid: the document is OpenAPI 3 that kin-openapi validates,
// examples included (they are checked against their schemas).
func TestOpenAPIValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q, want 3.x", doc.OpenAPI)
	}
}

// TestOpenAPIRoutes: every route the mux serves is an operation of the
// document, and every operation is a route.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var served, documented []string
	for _, rt := range (*Service)(nil).routeTable() {
		served = append(served, rt.pattern)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	for _, r := range served {
		if _, found := slices.BinarySearch(documented, r); !found {
			t.Errorf("route %s is served but not in demo/openapi.json", r)
		}
	}
	for _, r := range documented {
		if _, found := slices.BinarySearch(served, r); !found {
			t.Errorf("operation %s is in demo/openapi.json but not served", r)
		}
	}
	if len(served) != len(documented) {
		t.Errorf("%d routes served, %d documented", len(served), len(documented))
	}
}

// TestOpenAPIServed: GET /openapi.json answers the embedded document.
func TestOpenAPIServed(t *testing.T) {
	_, srv := serve(t, backends[0], modeRacy, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if string(body) != string(OpenAPI()) {
		t.Errorf("GET /openapi.json: %d bytes, not the embedded document (%d bytes)", len(body), len(OpenAPI()))
	}
}
