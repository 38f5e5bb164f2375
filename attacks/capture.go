package attacks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// capture extracts the named values from a JSON response body. paths map a
// variable name to the keys (or array indexes) leading to its value. Integral
// numbers are int64, others float64; a missing path is simply absent.
func capture(paths map[string][]string, body []byte) map[string]any {
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	out := make(map[string]any, len(paths))
	for name, path := range paths {
		if v, ok := walk(doc, path); ok {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func walk(v any, path []string) (any, bool) {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[p]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		return f, err == nil
	}
	return v, true
}

// text formats a captured value for a template.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// CaptureText takes the values at paths (variable name → dotted path with
// array indexes, e.g. items.0.id) from a JSON body, formatted as template
// text. missing lists, sorted, the names whose path is absent; err says the
// body is not JSON.
func CaptureText(body []byte, paths map[string]string) (vals map[string]string, missing []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("response is not JSON: %v", err)
	}
	vals = make(map[string]string, len(paths))
	for name, path := range paths {
		v, ok := walk(doc, strings.Split(path, "."))
		if !ok {
			missing = append(missing, name)
			continue
		}
		vals[name] = text(v)
	}
	sort.Strings(missing)
	return vals, missing, nil
}
