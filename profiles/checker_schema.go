package profiles

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
)

// CheckerSchema describes one checker kind for the JSON Schema: the
// invariants package registers one per checker (invariants.Register), so
// that this package, which does not know the checkers, can describe their
// fields.
type CheckerSchema struct {
	// Name is the checker's name, the value of check:.
	Name string
	// About is one line on what the checker proves.
	About string
	// Query and Op report whether the checker reads the invariant's
	// common query and op fields.
	Query, Op bool
	// Shorthand reports that the checker's field of its own name selects
	// it without check: (expect: …).
	Shorthand bool
	// Fields is the struct type of the checker's own fields (yaml tags name
	// them; jsonschema_description tags describe them).
	Fields reflect.Type
}

var (
	checkerSchemaMu sync.Mutex
	checkerSchemas  = map[string]CheckerSchema{}
)

// RegisterCheckerSchema records a checker kind for JSONSchema; a second
// registration of a name replaces the first.
func RegisterCheckerSchema(c CheckerSchema) {
	checkerSchemaMu.Lock()
	defer checkerSchemaMu.Unlock()
	checkerSchemas[c.Name] = c
}

// registeredCheckers are the registered checker kinds, sorted by name.
func registeredCheckers() []CheckerSchema {
	checkerSchemaMu.Lock()
	defer checkerSchemaMu.Unlock()
	out := make([]CheckerSchema, 0, len(checkerSchemas))
	for _, c := range checkerSchemas {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// addCheckerSchemas describes the registered checkers in the Invariant
// definition: check takes their names; every checker field is a property
// (the union, each saying which checkers read it); and for each checker
// an if/then allows, once check names it, only the common fields it reads
// and its own.
func addCheckerSchemas(inv *jsonschema.Schema) {
	kinds := registeredCheckers()
	if inv == nil || inv.Properties == nil || len(kinds) == 0 {
		return
	}
	if f, ok := inv.Properties.Get("check"); ok {
		for _, k := range kinds {
			f.Enum = append(f.Enum, k.Name)
		}
		var lines []string
		for _, k := range kinds {
			lines = append(lines, k.Name+": "+k.About)
		}
		f.Description += " Checkers: " + strings.Join(lines, "; ") + "."
	}
	r := &jsonschema.Reflector{FieldNameTag: "yaml", Mapper: scalarSchema, DoNotReference: true, ExpandedStruct: true}
	type prop struct {
		schema  *jsonschema.Schema
		readers []string
		about   []string // "checker: description", one per reader
	}
	props := map[string]*prop{}
	var order []string
	for _, k := range kinds {
		s := r.ReflectFromType(k.Fields)
		allowed := []any{"name", "check", "unit", "thing"}
		if k.Query {
			allowed = append(allowed, "query")
		}
		if k.Op {
			allowed = append(allowed, "op")
		}
		if s.Properties != nil {
			for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
				allowed = append(allowed, pair.Key)
				p := props[pair.Key]
				if p == nil {
					p = &prop{schema: pair.Value}
					props[pair.Key] = p
					order = append(order, pair.Key)
				}
				p.readers = append(p.readers, k.Name)
				p.about = append(p.about, k.Name+": "+pair.Value.Description)
			}
		}
		inv.AllOf = append(inv.AllOf, &jsonschema.Schema{
			If:   checkIs(k.Name),
			Then: &jsonschema.Schema{PropertyNames: &jsonschema.Schema{Enum: allowed}},
		})
	}
	for _, name := range order {
		p := props[name]
		s := *p.schema
		if len(p.readers) == 1 {
			s.Description = strings.TrimSpace(s.Description + " (checker " + p.readers[0] + ")")
		} else {
			s.Description = strings.Join(p.about, " | ")
		}
		inv.Properties.Set(name, &s)
	}
}

// checkIs is the schema of an invariant whose check is name.
func checkIs(name string) *jsonschema.Schema {
	var s jsonschema.Schema
	b, _ := json.Marshal(map[string]any{"required": []string{"check"}, "properties": map[string]any{"check": map[string]any{"const": name}}})
	if err := json.Unmarshal(b, &s); err != nil {
		panic(err) // a fixed shape: cannot fail
	}
	return &s
}
