package profiles

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/collide-dev/collide/chaos/fault"
	"github.com/collide-dev/collide/database"
)

// SchemaID is the $id of the profile format's JSON Schema.
const SchemaID = "https://github.com/collide-dev/collide/docs/profile.schema.json"

// typeSources are the files declaring the profile's Go types: their doc
// comments become the schema's descriptions (what an editor shows on hover).
//
//go:embed schema.go stacks.go steps.go keys.go
var typeSources embed.FS

// JSONSchema is the JSON Schema (draft 2020-12) of profile format version
// 1, generated from the Go types of this package by
// github.com/invopop/jsonschema, indented, with a final newline. `collide
// schema` prints it; docs/profile.schema.json is a copy. The fields whose
// YAML has a short form are described with oneOf: burst (a count or a
// mapping), keys (a count, a list, or a mapping: a range, a query or a
// capture), a setup step (SQL text or a mapping), durations (text, or 0)
// and rates (text or a number per second).
func JSONSchema() ([]byte, error) {
	comments, err := typeComments(typeSources, "github.com/collide-dev/collide/profiles")
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		CommentMap:                 comments,
		Mapper:                     scalarSchema,
	}
	s := r.Reflect(&Profile{})
	s.ID = SchemaID
	s.Title = "collide profile (format version 1)"
	s.Description = "A collide load profile: what to attack, how to break the network meanwhile, and what must hold afterwards. Every field: docs/profiles.md."
	for name, def := range s.Definitions {
		if req, ok := requiredFields[name]; ok {
			def.Required = req
		}
		for prop, values := range enumFields[name] {
			if f, ok := def.Properties.Get(prop); ok {
				f.Enum = values
			}
		}
	}
	for name, def := range s.Definitions {
		if short := schemaShortForms[name]; short != nil {
			s.Definitions[name] = short(def)
		}
	}
	if def := s.Definitions["Fault"]; def != nil {
		if s.Definitions["Fault"], err = faultSchema(def); err != nil {
			return nil, err
		}
	}
	// A status is written as text (2xx, 200-204) or a bare code (409).
	if o := s.Definitions["OutcomeRules"]; o != nil && o.Properties != nil {
		for _, k := range []string{"ok", "fail"} {
			if f, ok := o.Properties.Get(k); ok {
				f.Items = &jsonschema.Schema{
					Description: "a status code (409), a class (2xx) or a range (200-204)",
					AnyOf:       []*jsonschema.Schema{{Type: "string", Pattern: `^([1-5]xx|[1-5][0-9]{2}(-[1-5][0-9]{2})?)$`}, {Type: "integer", Minimum: "100", Maximum: "599"}},
				}
			}
		}
	}
	addCheckerSchemas(s.Definitions["Invariant"])
	// Top-level x- fields are ignored: a place for YAML anchors.
	if p := s.Definitions["Profile"]; p != nil {
		p.PatternProperties = map[string]*jsonschema.Schema{"^x-": {}}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode the profile schema: %w", err)
	}
	return b.Bytes(), nil
}

// requiredFields are the fields validation requires, by type (the schema
// cannot say "duration unless requests" and the like: those stay with
// collide validate).
var requiredFields = map[string][]string{
	"Profile":    {"name", "target", "database", "operations", "invariants"},
	"Audit":      {"id", "resource"},
	"DemoTarget": {"mode"},
	"Database":   {"driver"},
	"Fault":      {"link", "fault"},
	"Operation":  {"name"},
	"Step":       {"name", "request"},
	"Request":    {"method", "url"},
	"Invariant":  {"name"},
	"Burst":      {"copies"},
}

// enumFields are the fields with a closed set of values, by type, so that
// editors offer them.
var enumFields = map[string]map[string][]any{
	"Database":   {"driver": anys(database.Names())},
	"DemoTarget": {"mode": {"racy", "safe"}},
	"Fault": {
		"link":   {"target", "database"},
		"stream": {"downstream", "upstream"},
	},
	"Burst":   {"sync": {"single-packet", "last-byte", "barrier"}, "fallback": {"last-byte", "barrier"}},
	"Request": {"method": anys(httpMethods)},
}

func anys(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// faultSchema describes a chaos entry as one alternative per fault kind
// registered in package chaos/fault: the fields every fault has (common,
// the reflected Fault) with fault fixed to the kind's name, then the
// kind's own fields, reflected from its Params type with the doc comments
// of that package.
func faultSchema(common *jsonschema.Schema) (*jsonschema.Schema, error) {
	comments, err := typeComments(fault.Sources, "github.com/collide-dev/collide/chaos/fault")
	if err != nil {
		return nil, err
	}
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		CommentMap:                 comments,
		Mapper:                     scalarSchema,
		ExpandedStruct:             true,
		DoNotReference:             true,
	}
	name, ok := common.Properties.Get("fault")
	if !ok {
		return nil, fmt.Errorf("profile schema: Fault has no fault field")
	}
	out := &jsonschema.Schema{Description: common.Description}
	for _, kindName := range fault.Names() {
		kind, err := fault.Lookup(kindName)
		if err != nil {
			return nil, err
		}
		own := r.ReflectFromType(kind.Type())
		// A fresh schema of Fault gives a property map with the common
		// fields in their order; their descriptions and enums are common's.
		alt := r.ReflectFromType(reflect.TypeFor[Fault]())
		for p := common.Properties.Oldest(); p != nil; p = p.Next() {
			alt.Properties.Set(p.Key, p.Value)
		}
		fixed := *name
		fixed.Enum = []any{kindName}
		alt.Properties.Set("fault", &fixed)
		for p := own.Properties.Oldest(); p != nil; p = p.Next() {
			alt.Properties.Set(p.Key, p.Value)
		}
		alt.Version, alt.ID, alt.Definitions = "", "", nil
		alt.Title = kindName
		alt.Description = own.Description
		alt.Required = append(slices.Clone(common.Required), own.Required...)
		out.OneOf = append(out.OneOf, alt)
	}
	return out, nil
}

// shortForms wrap the mapping schema of the types that YAML also accepts
// in a shorter form (see shortForm).
var schemaShortForms = map[string]func(*jsonschema.Schema) *jsonschema.Schema{
	"Burst": func(m *jsonschema.Schema) *jsonschema.Schema {
		return &jsonschema.Schema{
			Description: m.Description,
			OneOf: []*jsonschema.Schema{
				{Type: "integer", Minimum: "1", Maximum: "1000", Description: "copies per burst"},
				m,
			},
		}
	},
	"Keys": func(m *jsonschema.Schema) *jsonschema.Schema {
		return &jsonschema.Schema{
			Description: "What {{key}} draws from: a count (keys: 50 gives key-0 … key-49), a list (keys: [7, 9, 12]), a range ({from: 1, to: 100}), a query ({query: SELECT id FROM items}) or a setup capture ({capture: ids}). Default: one key, key-0.",
			OneOf: []*jsonschema.Schema{
				{Type: "integer", Minimum: "0", Description: "a count of keys"},
				{Type: "array", Items: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string"}, {Type: "number"}}}, Description: "a list of keys"},
				m,
			},
		}
	},
	"SetupStep": func(m *jsonschema.Schema) *jsonschema.Schema {
		return &jsonschema.Schema{
			Description: m.Description,
			OneOf: []*jsonschema.Schema{
				{Type: "string", Description: "one SQL statement (the short form of {sql: …})"},
				m,
			},
		}
	},
}

// durationPattern is a Go duration: 250ms, 2s, 1m30s.
const durationPattern = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// scalarSchema maps the types written as one YAML scalar.
func scalarSchema(t reflect.Type) *jsonschema.Schema {
	switch t {
	case reflect.TypeFor[Duration](), reflect.TypeFor[time.Duration]():
		return &jsonschema.Schema{
			Description: "A duration such as 250ms, 2s or 1m30s.",
			OneOf: []*jsonschema.Schema{
				{Type: "string", Pattern: durationPattern},
				{Type: "integer", Enum: []any{0}},
			},
		}
	case reflect.TypeFor[Rate]():
		return &jsonschema.Schema{
			Description: "A rate: 300/s, 10/100ms, 300 (per second) or max.",
			OneOf: []*jsonschema.Schema{
				{Type: "string", Pattern: `^(max|[0-9]+(/[0-9]*(ns|us|µs|ms|s|m|h))?)$`},
				{Type: "integer", Minimum: "0"},
			},
		}
	}
	return nil
}

// typeComments maps "<package>.<Type>" and "<package>.<Type>.<Field>" to
// the doc comments of the types declared in the Go files of sources, package
// pkg (invopop's CommentMap), read from embedded sources so the binary needs
// no source tree. Test files are skipped.
func typeComments(sources embed.FS, pkg string) (map[string]string, error) {
	entries, err := sources.ReadDir(".")
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		src, err := sources.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", e.Name(), err)
		}
		files = append(files, f)
	}
	dp, err := doc.NewFromFiles(fset, files, pkg, doc.AllDecls|doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, t := range dp.Types {
		m[pkg+"."+t.Name] = oneLine(t.Doc)
		for _, spec := range t.Decl.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if !ok {
				continue
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := f.Doc.Text()
				if text == "" {
					text = f.Comment.Text()
				}
				for _, n := range f.Names {
					if n.IsExported() && text != "" {
						m[pkg+"."+t.Name+"."+n.Name] = oneLine(text)
					}
				}
			}
		}
	}
	return m, nil
}
