package database_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// driverNames are the words no code outside database/ may spell as a
// string literal: packages ask the registry (Lookup, Features, NamesWhere)
// or use a driver package's Name constant instead of comparing names.
var driverNames = []string{"postgres", "mysql", "sqlite", "redis"}

// literalMarker on a literal's line allows it: the line registers a name
// (e.g. with database/sql) rather than branching on one.
const literalMarker = "// driver registration"

// skippedDirs are the folders (relative to the module root, slash-separated)
// whose literals are allowed as a whole:
//   - database: the drivers register and describe themselves;
//   - demo: the demo service's own dialect names are its registration of
//     the databases it runs on (demo.Config.Driver).
var skippedDirs = []string{"database", "demo"}

// allowedLiterals are single literals outside skippedDirs, each with why
// it is not a driver name: "path: literal" → reason. An entry that no
// longer matches anything fails the test, so the list cannot go stale.
var allowedLiterals = map[string]string{
	`stacks/docker.go: "postgres"`: "the PostgreSQL container collide starts (database.container, " +
		"only for drivers with Features.Container): the container's role name and its URL scheme",
	`cmd/collide/demo.go: "redis"`:  "the name of `collide demo`'s -redis flag (the demo's Redis lock store URL), a command-line word",
	`bench/detect/main.go: "redis"`: "the name of detect's -redis flag (target.demo.redis), a command-line word",
	`chaos/tap/tap.go: "postgres"`:  "Protocol.String: the name of the PostgreSQL wire protocol the tap parses, not a driver",
	`chaos/tap/tap.go: "mysql"`:     "Protocol.String: the name of the MySQL wire protocol the tap parses, not a driver",
}

// TestNoDriverNameLiterals enforces issue 15's done-rule: no non-test Go
// file outside database/ and demo/ holds a string literal that is exactly
// a driver name, except on a line marked literalMarker or as listed in
// allowedLiterals with its reason. It parses the files (go/ast BasicLit),
// so struct tags, import paths and longer texts ("sqlite, postgres or
// mysql") are not matches. Test files are left out: tests name the
// drivers they run on.
func TestNoDriverNameLiterals(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
	used := map[string]bool{}
	var files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" ||
				slices.Contains(skippedDirs, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		files++
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		hits, err := driverLiterals(path, src)
		if err != nil {
			return err
		}
		for _, h := range hits {
			key := rel + ": " + strconv.Quote(h.value)
			if _, ok := allowedLiterals[key]; ok {
				used[key] = true
				continue
			}
			t.Errorf("%s:%d: driver name %q as a literal: ask the database registry (Lookup, Features, NamesWhere) or use the driver package's Name, "+
				"or mark the line %q, or add %q to allowedLiterals with a reason", rel, h.line, h.value, literalMarker, key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("walked only %d Go files under %s: not the module root?", files, root)
	}
	for key := range allowedLiterals {
		if !used[key] {
			t.Errorf("allowedLiterals[%q] matches nothing any more: remove it", key)
		}
	}
}

// TestNoDriverNameLiteralsSeesOne proves the walker both ways on a
// throwaway file: a literal driver name is found, the same on a marked line
// or inside a longer text or a struct tag is not.
func TestNoDriverNameLiteralsSeesOne(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"literal", `package p; var d = "redis"`, 1},
		{"raw literal", "package p; var d = `mysql`", 1},
		{"marked line", "package p\nvar d = \"sqlite\" " + literalMarker + " of the sqlite driver\n", 0},
		{"longer text", `package p; var d = "sqlite, postgres or mysql"`, 0},
		{"struct tag", "package p; type T struct{ R string `yaml:\"redis\"` }", 0},
		{"import path", `package p; import _ "github.com/go-sql-driver/mysql"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := driverLiterals("p.go", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("found %v, want %d driver-name literals", got, tc.want)
			}
		})
	}
}

// literal is a driver name found as a string literal, at line (1-based).
type literal struct {
	line  int
	value string
}

// driverLiterals parses the Go source src (read from path) and returns its
// string literals (go/ast BasicLit) whose value is exactly a driver name,
// leaving out those on a line carrying literalMarker.
func driverLiterals(path string, src []byte) ([]literal, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(src), "\n")
	var out []literal
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil || !slices.Contains(driverNames, v) {
			return true
		}
		line := fset.Position(lit.Pos()).Line
		if !strings.Contains(lines[line-1], literalMarker) {
			out = append(out, literal{line, v})
		}
		return true
	})
	return out, nil
}
