package discover

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/collide-dev/collide/attacks"
)

// Render returns a copy of r whose URL, header values and Body have every
// {{name}} replaced by vars[name]: the values the Capture of earlier
// (Setup) requests took (Captured). A {{name}}
// that is not in vars, or a placeholder collide does not know, is an error
// naming the request.
func (r Request) Render(vars map[string]string) (Request, error) {
	names := make(map[string]bool, len(vars))
	for n := range vars {
		names[n] = true
	}
	v := &attacks.Vars{Run: vars}
	render := func(field, s string) (string, error) {
		t, err := attacks.CompileVars(s, names)
		if err != nil {
			return "", fmt.Errorf("%s: %s: %w", r.ID, field, err)
		}
		return t.Render(v), nil
	}
	out := r
	var err error
	if out.URL, err = render("url", r.URL); err != nil {
		return Request{}, err
	}
	if r.Body != nil {
		b, err := render("body", string(r.Body))
		if err != nil {
			return Request{}, err
		}
		out.Body = []byte(b)
	}
	if r.Header != nil {
		out.Header = make(http.Header, len(r.Header))
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, val := range r.Header[k] {
				s, err := render("header "+k, val)
				if err != nil {
					return Request{}, err
				}
				out.Header[k] = append(out.Header[k], s)
			}
		}
	}
	return out, nil
}

// Captured takes r.Capture's variables from body, r's JSON response, for
// Render to substitute in the requests that follow: nil when r captures
// nothing; an error naming r and the variables when the body is not JSON
// or lacks a path.
func (r Request) Captured(body []byte) (map[string]string, error) {
	if len(r.Capture) == 0 {
		return nil, nil
	}
	vals, missing, err := attacks.CaptureText(body, r.Capture)
	if err != nil {
		return nil, fmt.Errorf("%s: capture %s: %w", r.ID, strings.Join(slices.Sorted(maps.Keys(r.Capture)), ", "), err)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: capture: the response has no %s", r.ID, strings.Join(missing, ", "))
	}
	return vals, nil
}
