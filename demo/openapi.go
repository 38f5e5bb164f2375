package demo

import (
	"bytes"
	_ "embed" // the OpenAPI document
	"net/http"
)

// OpenAPI returns (a copy of) the OpenAPI 3 document of the service, served at GET
// /openapi.json: every route of Handler, with example values for each
// path parameter, header and body such that each example, sent alone on a
// fresh service after the operations marked "x-collide-setup": true (POST
// /login, POST /resources), succeeds — except GET /reports/{id}, which
// answers 404 until a job of the report ran. "x-collide-capture" on a setup
// operation names values taken from its JSON response (variable → dotted
// path, e.g. token: token) that later requests use as {{name}}: the bearer
// security scheme's "x-collide-example" is "{{token}}". collide discover
// reads it as a source of requests (discover.FromOpenAPI). The file is
// demo/openapi.json; a test checks it against the route table.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves the document.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPI) // the client may be gone; nothing to do
}
