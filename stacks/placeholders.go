package stacks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Placeholder names that commands, environments and URLs of a command or
// container target may use.
const (
	PlaceholderPort        = "port"         // the port the service listens on
	PlaceholderDatabaseDSN = "database_dsn" // the DSN the service must use
)

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Expand replaces every {{name}} in s with vars[name]. A placeholder that
// vars lacks is an error naming it.
func Expand(s string, vars map[string]string) (string, error) {
	var missing string
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = m
		}
		return v
	})
	if missing != "" {
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, "{{"+k+"}}")
		}
		sort.Strings(names)
		return "", fmt.Errorf("unknown placeholder %s (want %s)", missing, strings.Join(names, " or "))
	}
	return out, nil
}

// ExpandAll expands every element of list.
func ExpandAll(list []string, vars map[string]string) ([]string, error) {
	out := make([]string, len(list))
	for i, s := range list {
		v, err := Expand(s, vars)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// ExpandEnv expands every value of env.
func ExpandEnv(env map[string]string, vars map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(env))
	for k, s := range env {
		v, err := Expand(s, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}
