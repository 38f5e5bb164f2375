package profiles

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// builtinFS holds the built-in profiles, one file per profile; the file
// name without .yaml is the profile's built-in name.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinInfo describes one built-in profile.
type BuiltinInfo struct {
	// Name is what to pass to Load (the file name without .yaml).
	Name string
	// About is the profile's about line.
	About string
}

// Builtins lists the built-in profiles, sorted by name.
func Builtins() []BuiltinInfo {
	files, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	out := make([]BuiltinInfo, 0, len(files))
	for _, f := range files {
		info := BuiltinInfo{Name: strings.TrimSuffix(path.Base(f), ".yaml")}
		if data, err := builtinFS.ReadFile(f); err == nil {
			var head struct {
				About string `yaml:"about"`
			}
			if safely(func() error { return yaml.Unmarshal(data, &head) }) == nil {
				info.About = head.About
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Builtin returns the YAML of the built-in profile name ("counter"; a
// trailing ".yaml" is allowed). The error for an unknown name wraps
// fs.ErrNotExist.
func Builtin(name string) ([]byte, error) {
	n := strings.TrimSuffix(name, ".yaml")
	if n != "" && strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_-") == "" {
		if data, err := builtinFS.ReadFile("builtin/" + n + ".yaml"); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("no built-in profile %s (built-ins: %s): %w", quote(name), builtinNames(), fs.ErrNotExist)
}

// builtinFile is the file name errors give for a built-in profile.
func builtinFile(name string) string {
	return "builtin/" + strings.TrimSuffix(name, ".yaml") + ".yaml"
}

func builtinNames() string {
	var names []string
	for _, b := range Builtins() {
		names = append(names, b.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
