package discover

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

// Extensions of an OpenAPI operation or security scheme that FromOpenAPI
// reads.
const (
	// ExtSetup on an operation marks it as setup (Request.Setup): true, or
	// a number ordering the setup operations (lower first; true is 0).
	ExtSetup = "x-collide-setup"
	// ExtCapture on an operation names values to take from its JSON
	// response (Request.Capture): {"token": "token"}.
	ExtCapture = "x-collide-capture"
	// ExtExample on a security scheme is the credential its requests send,
	// typically a capture: "{{token}}" (an http bearer scheme then sends
	// "Authorization: Bearer {{token}}").
	ExtExample = "x-collide-example"
)

// placeholderString is what a string without any example becomes.
const placeholderString = "x"

// maxSchemaDepth bounds how deep FromOpenAPI builds a body from a schema
// (recursive schemas end there).
const maxSchemaDepth = 6

// FromOpenAPI reads an OpenAPI 3 document (JSON or YAML; path names it in
// messages) and returns one Request per operation, each with its path
// parameters, query, headers, cookies, credentials and JSON body filled in
// from the document. A value comes from the first of: the parameter's or
// media type's example, its first named example (by name), the schema's
// example, the schema's default, the schema's first enum value; else a
// typed placeholder built from the schema (1 for integers and numbers, "x"
// for strings, false for booleans, every property of an object, one item of
// an array). A security requirement adds its credential: an http bearer
// scheme sends "Authorization: Bearer <x-collide-example or x>", basic
// sends x:x, an apiKey its x-collide-example (or x) in its header, query or
// cookie.
//
// Request.URL is the path (prefixed with the first server's path, such as
// /api/v1) with its query; Endpoint is "METHOD /path/{template}" with that
// prefix; ID is "openapi:METHOD /path/{template}" as the document writes
// the path. Setup and Capture come from the x-collide-setup and
// x-collide-capture extensions. Requests are sorted setup first (by their
// x-collide-setup order), then by path, then by method.
//
// A document that does not parse is an *InputError naming path, line and
// column; one that is not valid OpenAPI 3 an *InputError naming path.
func FromOpenAPI(path string, data []byte) ([]Request, error) {
	if err := checkSyntax(path, data); err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.IncludeOrigin = true // the lines of operations, for messages
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, &InputError{File: path, Msg: "not an OpenAPI document: " + err.Error(), Err: err}
	}
	if doc.OpenAPI == "" {
		return nil, &InputError{File: path, Msg: `no "openapi" version field: want an OpenAPI 3 document (convert a Swagger 2 one first)`}
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, &InputError{File: path, Msg: fmt.Sprintf("openapi version %q: want 3.x", doc.OpenAPI)}
	}
	// Examples are not checked against their schemas: a document whose
	// example is a little off is still worth sending.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, &InputError{File: path, Msg: "invalid OpenAPI 3 document: " + err.Error(), Err: err}
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, &InputError{File: path, Msg: "the document has no paths"}
	}
	prefix := serverPrefix(doc)
	type entry struct {
		req   Request
		order float64 // setup order
		path  string
	}
	var entries []entry
	for p, item := range doc.Paths.Map() {
		if item == nil {
			continue
		}
		for method, op := range item.Operations() {
			method = strings.ToUpper(method)
			req, err := openAPIRequest(doc, path, prefix, p, method, item, op)
			if err != nil {
				return nil, err
			}
			order, setup, err := setupOrder(op.Extensions[ExtSetup])
			if err != nil {
				return nil, opInputError(path, op, fmt.Sprintf("paths.%s.%s: %s: %v", p, strings.ToLower(method), ExtSetup, err))
			}
			req.Setup = setup
			entries = append(entries, entry{req: req, order: order, path: p})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.req.Setup != b.req.Setup:
			if a.req.Setup {
				return -1
			}
			return 1
		case a.req.Setup && a.order != b.order:
			if a.order < b.order {
				return -1
			}
			return 1
		case a.path != b.path:
			return strings.Compare(a.path, b.path)
		}
		return strings.Compare(a.req.Method, b.req.Method)
	})
	out := make([]Request, len(entries))
	for i, e := range entries {
		out[i] = e.req
	}
	return out, nil
}

// checkSyntax parses data as JSON (when it starts like JSON) or YAML, to
// report a syntax error with its line (and, for JSON, column) before
// kin-openapi, whose messages carry neither.
func checkSyntax(path string, data []byte) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return &InputError{File: path, Msg: "empty document"}
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		var v any
		err := json.Unmarshal(data, &v)
		if err == nil {
			return nil
		}
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			ie := inputErrorAt(path, data, syn.Offset, "invalid JSON: "+syn.Error())
			ie.Err = err
			return ie
		}
		return &InputError{File: path, Msg: "invalid JSON: " + err.Error(), Err: err}
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return yamlInputError(path, err)
	}
	return nil
}

// yamlInputError turns a YAML parser error into an InputError at its line
// and column.
func yamlInputError(path string, err error) *InputError {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		return &InputError{File: path, Line: le.Mark.Line, Col: le.Mark.Column, Msg: "invalid YAML: " + le.Message, Err: err}
	}
	return &InputError{File: path, Msg: "invalid YAML: " + err.Error(), Err: err}
}

// opInputError is an InputError at the line and column of op's key in
// the document, when the loader recorded it.
func opInputError(file string, op *openapi3.Operation, msg string) *InputError {
	e := &InputError{File: file, Msg: msg}
	if op != nil && op.Origin != nil && op.Origin.Key != nil {
		e.Line, e.Col = op.Origin.Key.Line, op.Origin.Key.Column
	}
	return e
}

// setupOrder reads x-collide-setup: absent or false (not setup), true
// (setup, order 0) or a number (setup, that order).
func setupOrder(v any) (float64, bool, error) {
	switch v := v.(type) {
	case nil:
		return 0, false, nil
	case bool:
		return 0, v, nil
	case float64:
		return v, true, nil
	case int:
		return float64(v), true, nil
	case json.Number:
		f, err := v.Float64()
		return f, err == nil, err
	}
	return 0, false, fmt.Errorf("want true, false or a number, got %v", v)
}

// serverPrefix is the path of the document's first server URL ("/api/v1"),
// without a trailing slash; "" when there is none or it has variables.
func serverPrefix(doc *openapi3.T) string {
	if len(doc.Servers) == 0 || doc.Servers[0] == nil || strings.Contains(doc.Servers[0].URL, "{") {
		return ""
	}
	u, err := url.Parse(doc.Servers[0].URL)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

// openAPIRequest builds the Request of one operation.
func openAPIRequest(doc *openapi3.T, file, prefix, path, method string, item *openapi3.PathItem, op *openapi3.Operation) (Request, error) {
	where := "paths." + path + "." + strings.ToLower(method)
	req := Request{
		ID:       "openapi:" + method + " " + path,
		Endpoint: method + " " + prefix + path,
		Method:   method,
		Header:   http.Header{},
		Source:   file + ": " + where,
	}
	fail := func(format string, args ...any) (Request, error) {
		return Request{}, opInputError(file, op, where+": "+fmt.Sprintf(format, args...))
	}

	// Parameters: the operation's override the path item's of the same
	// name and location.
	params := map[string]*openapi3.Parameter{}
	var keys []string
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			k := ref.Value.In + "\x00" + ref.Value.Name
			if _, seen := params[k]; !seen {
				keys = append(keys, k)
			}
			params[k] = ref.Value
		}
	}
	slices.Sort(keys)
	urlPath := path
	var query, cookies []string
	for _, k := range keys {
		p := params[k]
		v := paramValue(p)
		text := valueText(v)
		switch p.In {
		case openapi3.ParameterInPath:
			if !strings.Contains(urlPath, "{"+p.Name+"}") {
				return fail("path parameter %q is not in the path", p.Name)
			}
			urlPath = strings.ReplaceAll(urlPath, "{"+p.Name+"}", escapeUnlessTemplate(text, url.PathEscape))
		case openapi3.ParameterInQuery:
			if arr, ok := v.([]any); ok && (p.Explode == nil || *p.Explode) {
				for _, e := range arr {
					query = append(query, url.QueryEscape(p.Name)+"="+escapeUnlessTemplate(valueText(e), url.QueryEscape))
				}
				continue
			}
			query = append(query, url.QueryEscape(p.Name)+"="+escapeUnlessTemplate(text, url.QueryEscape))
		case openapi3.ParameterInHeader:
			req.Header.Add(p.Name, text)
		case openapi3.ParameterInCookie:
			cookies = append(cookies, p.Name+"="+text)
		}
	}
	if i := strings.Index(urlPath, "{"); i >= 0 && !strings.Contains(urlPath, "{{") {
		return fail("path template %s has a parameter without a definition", path)
	}

	// Credentials: the first alternative of the operation's (else the
	// document's) security requirements.
	security := doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	if len(security) > 0 {
		names := make([]string, 0, len(security[0]))
		for n := range security[0] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if doc.Components == nil || doc.Components.SecuritySchemes[n] == nil || doc.Components.SecuritySchemes[n].Value == nil {
				return fail("security scheme %q is not defined in components.securitySchemes", n)
			}
			s := doc.Components.SecuritySchemes[n].Value
			cred := placeholderString
			if e, ok := s.Extensions[ExtExample].(string); ok {
				cred = e
			}
			switch {
			case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
				req.Header.Set("Authorization", "Bearer "+cred)
			case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
				if _, ok := s.Extensions[ExtExample].(string); !ok {
					cred = base64.StdEncoding.EncodeToString([]byte("x:x"))
				}
				req.Header.Set("Authorization", "Basic "+cred)
			case s.Type == "apiKey" && s.In == "header":
				req.Header.Set(s.Name, cred)
			case s.Type == "apiKey" && s.In == "query":
				query = append(query, url.QueryEscape(s.Name)+"="+escapeUnlessTemplate(cred, url.QueryEscape))
			case s.Type == "apiKey" && s.In == "cookie":
				cookies = append(cookies, s.Name+"="+cred)
			}
		}
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	req.URL = prefix + urlPath
	if len(query) > 0 {
		req.URL += "?" + strings.Join(query, "&")
	}

	if op.RequestBody != nil && op.RequestBody.Value != nil {
		mt, media := pickMediaType(op.RequestBody.Value.Content)
		if media != nil {
			body, err := bodyBytes(mt, mediaValue(media))
			if err != nil {
				return fail("request body: %v", err)
			}
			req.Body = body
			req.Header.Set("Content-Type", mt)
		}
	}
	if len(req.Header) == 0 {
		req.Header = nil
	}
	if c, ok := op.Extensions[ExtCapture].(map[string]any); ok {
		req.Capture = make(map[string]string, len(c))
		for k, v := range c {
			s, ok := v.(string)
			if !ok {
				return fail("%s.%s: want a dotted path (text), got %v", ExtCapture, k, v)
			}
			req.Capture[k] = s
		}
	} else if v, present := op.Extensions[ExtCapture]; present {
		return fail("%s: want a mapping of variable → dotted path, got %v", ExtCapture, v)
	}
	return req, nil
}

// escapeUnlessTemplate escapes s unless it holds a {{name}} placeholder,
// which must stay readable to Render.
func escapeUnlessTemplate(s string, escape func(string) string) string {
	if strings.Contains(s, "{{") {
		return s
	}
	return escape(s)
}

// pickMediaType chooses the body's media type: application/json, else a
// +json type, else the first by name.
func pickMediaType(c openapi3.Content) (string, *openapi3.MediaType) {
	if len(c) == 0 {
		return "", nil
	}
	if m := c["application/json"]; m != nil {
		return "application/json", m
	}
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasSuffix(strings.SplitN(n, ";", 2)[0], "+json") {
			return n, c[n]
		}
	}
	return names[0], c[names[0]]
}

// bodyBytes encodes a body value for its media type: JSON for a JSON type,
// a form for application/x-www-form-urlencoded, the text itself for a
// string otherwise.
func bodyBytes(mediaType string, v any) ([]byte, error) {
	base := strings.TrimSpace(strings.SplitN(mediaType, ";", 2)[0])
	switch {
	case base == "application/x-www-form-urlencoded":
		if m, ok := v.(map[string]any); ok {
			form := url.Values{}
			for k, e := range m {
				form.Set(k, valueText(e))
			}
			return []byte(form.Encode()), nil
		}
	case base != "application/json" && !strings.HasSuffix(base, "+json"):
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", mediaType, err)
	}
	return b, nil
}

// paramValue is the example value of a parameter.
func paramValue(p *openapi3.Parameter) any {
	if p.Example != nil {
		return p.Example
	}
	if v, ok := firstExample(p.Examples); ok {
		return v
	}
	if p.Schema != nil {
		return schemaValue(p.Schema.Value, 0)
	}
	if _, media := pickMediaType(p.Content); media != nil {
		return mediaValue(media)
	}
	return placeholderString
}

// mediaValue is the example value of a media type (a body).
func mediaValue(m *openapi3.MediaType) any {
	if m.Example != nil {
		return m.Example
	}
	if v, ok := firstExample(m.Examples); ok {
		return v
	}
	if m.Schema != nil {
		return schemaValue(m.Schema.Value, 0)
	}
	return map[string]any{}
}

// firstExample is the value of the first named example, by name.
func firstExample(ex openapi3.Examples) (any, bool) {
	names := make([]string, 0, len(ex))
	for n, e := range ex {
		if e != nil && e.Value != nil && e.Value.Value != nil {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, false
	}
	slices.Sort(names)
	return ex[names[0]].Value.Value, true
}

// schemaValue is a value of schema s: its example, default or first enum
// value, else a placeholder of its type.
func schemaValue(s *openapi3.Schema, depth int) any {
	if s == nil {
		return placeholderString
	}
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if depth < maxSchemaDepth {
		if len(s.AllOf) > 0 {
			merged := map[string]any{}
			for _, r := range s.AllOf {
				if m, ok := schemaValue(r.Value, depth+1).(map[string]any); ok {
					maps.Copy(merged, m)
				}
			}
			return merged
		}
		for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			if len(alts) > 0 && alts[0] != nil {
				return schemaValue(alts[0].Value, depth+1)
			}
		}
	}
	switch {
	case s.Type.Is("integer"), s.Type.Is("number"):
		if s.Min != nil && *s.Min > 1 {
			return *s.Min
		}
		return 1
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("array"):
		if s.Items == nil || depth >= maxSchemaDepth {
			return []any{}
		}
		return []any{schemaValue(s.Items.Value, depth+1)}
	case s.Type.Is("object") || len(s.Properties) > 0:
		m := map[string]any{}
		if depth >= maxSchemaDepth {
			return m
		}
		for name, p := range s.Properties {
			if p == nil || p.Value == nil || p.Value.ReadOnly {
				continue
			}
			m[name] = schemaValue(p.Value, depth+1)
		}
		return m
	}
	return placeholderString
}

// valueText renders a parameter value as text: strings as they are,
// integral numbers without a fraction, anything else as JSON.
func valueText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
