package discover

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// HAROption changes how FromHAR reads a file.
type HAROption func(*harConfig)

type harConfig struct {
	allowRemote bool
}

// AllowRemote(true) lets FromHAR keep requests to hosts outside loopback
// (as --allow-remote does); by default such an entry is an InputError.
func AllowRemote(allow bool) HAROption {
	return func(c *harConfig) { c.allowRemote = allow }
}

// The HAR 1.2 fields FromHAR reads
// (http://www.softwareishard.com/blog/har-12-spec/); the rest is ignored.
type (
	harFile struct {
		Log *harLog `json:"log"`
	}
	harLog struct {
		Entries []json.RawMessage `json:"entries"`
	}
	harEntry struct {
		Request  harRequest  `json:"request"`
		Response harResponse `json:"response"`
		// ResourceType is Chrome's kind of the request ("fetch",
		// "document", "image", "stylesheet" …), absent in other exports.
		ResourceType string `json:"_resourceType"`
	}
	harRequest struct {
		Method   string       `json:"method"`
		URL      string       `json:"url"`
		Headers  []harNameVal `json:"headers"`
		Cookies  []harNameVal `json:"cookies"`
		PostData *harPostData `json:"postData"`
	}
	harPostData struct {
		MimeType string       `json:"mimeType"`
		Text     string       `json:"text"`
		Params   []harNameVal `json:"params"`
	}
	harResponse struct {
		Status  int          `json:"status"`
		Headers []harNameVal `json:"headers"`
		Cookies []harNameVal `json:"cookies"`
		Content harContent   `json:"content"`
	}
	harContent struct {
		MimeType string `json:"mimeType"`
		Text     string `json:"text"`
		Encoding string `json:"encoding"`
	}
	harNameVal struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
)

// harDropHeaders are request headers FromHAR leaves out: hop-by-hop
// headers, those the client computes (Host, Content-Length,
// Accept-Encoding: Go's transport negotiates its own), and those only a
// browser sends about itself. Cookie and Authorization are kept.
var harDropHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Connection": true, "Keep-Alive": true,
	"Proxy-Connection": true, "Transfer-Encoding": true, "Te": true, "Trailer": true,
	"Upgrade": true, "Accept-Encoding": true, "Upgrade-Insecure-Requests": true,
	"Priority": true, "Dnt": true, "Purpose": true, "Sec-Purpose": true,
}

// harDropPrefixes drop browser-only header families (Sec-Fetch-Mode,
// Sec-Ch-Ua-Platform …).
var harDropPrefixes = []string{"Sec-Fetch-", "Sec-Ch-", "Sec-Gpc"}

// harStaticExt are path extensions of static assets, skipped.
var harStaticExt = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".map": true, ".png": true, ".jpg": true,
	".jpeg": true, ".gif": true, ".svg": true, ".ico": true, ".webp": true, ".avif": true,
	".bmp": true, ".woff": true, ".woff2": true, ".ttf": true, ".otf": true, ".eot": true,
	".mp4": true, ".webm": true, ".mp3": true, ".wasm": true,
}

// harStaticTypes are Chrome's _resourceType values of static assets and
// browser plumbing, skipped.
var harStaticTypes = map[string]bool{
	"image": true, "stylesheet": true, "script": true, "font": true, "media": true,
	"manifest": true, "texttrack": true, "websocket": true, "eventsource": true,
}

// harStaticMIME reports a response media type of a static asset.
func harStaticMIME(mime string) bool {
	mime = strings.ToLower(strings.TrimSpace(strings.SplitN(mime, ";", 2)[0]))
	switch {
	case strings.HasPrefix(mime, "image/"), strings.HasPrefix(mime, "font/"),
		strings.HasPrefix(mime, "video/"), strings.HasPrefix(mime, "audio/"):
		return true
	}
	switch mime {
	case "text/css", "text/javascript", "application/javascript", "application/x-javascript",
		"application/wasm", "application/font-woff", "application/font-woff2":
		return true
	}
	return false
}

// harSetupPath is the heuristic of a setup request: a request other than
// GET or HEAD whose path names a login, a sign-in, a session, an auth step
// or a token (POST /login, POST /api/session, POST /oauth/token). A GET of
// a login page only shows a form, so it is not setup.
var harSetupPath = regexp.MustCompile(`(?i)(log-?in|sign-?in|session|auth|token)`)

// idSegment matches a path segment that names one resource, templated as
// {id} in Request.Endpoint: a number, a UUID, or a 24-digit hex object id.
var idSegment = regexp.MustCompile(`^(\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{24})$`)

// FromHAR reads a HAR 1.2 file (an export of a browser's network panel or
// of a proxy; file names it in messages) and returns one Request per entry
// that is an API call, in the recorded order. It skips entries that are
// not http(s) (data:, blob:, ws:), CORS preflights (OPTIONS), and static
// assets (a response media type of an image, font, style sheet, script,
// video or audio, such a path extension: .js, .css, .png …, or such a
// Chrome _resourceType).
//
// Each Request keeps the recorded method, absolute URL, body
// (postData.text, or its params as a form) and headers, except hop-by-hop
// and browser-only ones (Host, Content-Length, Connection,
// Accept-Encoding, Sec-Fetch-* …); Cookie and Authorization are kept,
// except the cookies an earlier response of the file set (a session
// cookie of the login): a replay's cookie jar sends the fresh ones.
// Endpoint is the method and the path with numeric, UUID and 24-hex-digit
// segments templated as {id}; ID is "har:N" with N the entry's index in
// log.entries, from 0. Setup marks the requests harSetupPath matches:
// not GET or HEAD, path containing login, signin, session, auth or token.
// When a setup entry's recorded JSON response holds a value (8 characters
// or more) that later requests send — a bearer token — those requests get
// {{name}} in its place and the setup request a Capture of it, so a replay
// sends the fresh value.
//
// An entry whose host is not loopback (127.0.0.0/8, ::1, localhost) is an
// *InputError naming the file, the entry's line and its index unless
// AllowRemote(true) is given; the name is not resolved. A file that is not
// JSON is an *InputError at the line and column of the error.
func FromHAR(file string, data []byte, opts ...HAROption) ([]Request, error) {
	var cfg harConfig
	for _, o := range opts {
		o(&cfg)
	}
	var f harFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonInputError(file, data, 0, err)
	}
	if f.Log == nil || f.Log.Entries == nil {
		return nil, &InputError{File: file, Msg: "not a HAR file: no log.entries"}
	}
	offsets := harEntryOffsets(data)
	var out []Request
	var responses []harContent         // the recorded response of each of out, for captures
	setCookies := map[string]bool{}    // cookie names earlier responses set
	var pendingCookies map[string]bool // those the previous entry's response set
	for i, raw := range f.Log.Entries {
		maps.Copy(setCookies, pendingCookies)
		pendingCookies = nil
		at := func(msg string) *InputError {
			e := &InputError{File: file, Msg: fmt.Sprintf("entry %d: %s", i, msg)}
			if i < len(offsets) {
				e.Line, e.Col = offsetLineCol(data, offsets[i]+1)
			}
			return e
		}
		var e harEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			var base int64
			if i < len(offsets) {
				base = offsets[i]
			}
			ie := jsonInputError(file, data, base, err)
			ie.Msg = fmt.Sprintf("entry %d: %s", i, ie.Msg)
			return nil, ie
		}
		rq := e.Request
		pendingCookies = e.Response.setCookieNames()
		method := strings.ToUpper(strings.TrimSpace(rq.Method))
		if method == "" {
			return nil, at("request.method is empty")
		}
		u, err := url.Parse(rq.URL)
		if err != nil {
			return nil, at(fmt.Sprintf("request.url %q: %v", rq.URL, err))
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			continue // data:, blob:, ws:, chrome-extension:
		}
		if method == http.MethodOptions || harStaticTypes[e.ResourceType] || harStaticMIME(e.Response.Content.MimeType) ||
			harStaticExt[strings.ToLower(path.Ext(u.Path))] {
			continue
		}
		if u.Host == "" {
			return nil, at(fmt.Sprintf("request.url %q has no host", rq.URL))
		}
		if !cfg.allowRemote && !loopbackHost(u.Hostname()) {
			return nil, at(fmt.Sprintf("request to %s, a host outside loopback, refused (allow remote hosts to keep it: --allow-remote)", u.Host))
		}
		r := Request{
			ID:       "har:" + strconv.Itoa(i),
			Endpoint: method + " " + templatePath(u.EscapedPath()),
			Method:   method,
			URL:      u.String(),
			Source:   fmt.Sprintf("%s: entry %d", file, i),
			Setup:    method != http.MethodGet && method != http.MethodHead && harSetupPath.MatchString(u.Path),
		}
		h := http.Header{}
		for _, nv := range rq.Headers {
			name := http.CanonicalHeaderKey(strings.TrimSpace(nv.Name))
			if name == "" || strings.HasPrefix(name, ":") || harDropHeaders[name] || slices.ContainsFunc(harDropPrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
				continue
			}
			h.Add(name, nv.Value)
		}
		if h.Get("Cookie") == "" && len(rq.Cookies) > 0 {
			parts := make([]string, len(rq.Cookies))
			for j, c := range rq.Cookies {
				parts[j] = c.Name + "=" + c.Value
			}
			h.Set("Cookie", strings.Join(parts, "; "))
		}
		if c := h.Values("Cookie"); len(c) > 0 {
			h.Del("Cookie")
			if kept := dropCookies(c, setCookies); kept != "" {
				h.Set("Cookie", kept)
			}
		}
		if pd := rq.PostData; pd != nil {
			switch {
			case pd.Text != "":
				r.Body = []byte(pd.Text)
			case len(pd.Params) > 0:
				form := url.Values{}
				for _, p := range pd.Params {
					form.Add(p.Name, p.Value)
				}
				r.Body = []byte(form.Encode())
			}
			if r.Body != nil && h.Get("Content-Type") == "" && pd.MimeType != "" {
				h.Set("Content-Type", pd.MimeType)
			}
		}
		if len(h) > 0 {
			r.Header = h
		}
		out = append(out, r)
		responses = append(responses, e.Response.Content)
	}
	harCaptures(out, responses)
	return out, nil
}

// setCookieNames lists the cookies the response sets (its cookies, or
// its Set-Cookie headers).
func (r harResponse) setCookieNames() map[string]bool {
	names := map[string]bool{}
	for _, c := range r.Cookies {
		names[c.Name] = true
	}
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, "Set-Cookie") {
			if c, err := http.ParseSetCookie(h.Value); err == nil {
				names[c.Name] = true
			}
		}
	}
	return names
}

// dropCookies joins the name=value pairs of Cookie header values, leaving
// out the cookies named in drop.
func dropCookies(values []string, drop map[string]bool) string {
	var kept []string
	for _, v := range values {
		for _, pair := range strings.Split(v, ";") {
			pair = strings.TrimSpace(pair)
			name, _, _ := strings.Cut(pair, "=")
			if pair != "" && !drop[strings.TrimSpace(name)] {
				kept = append(kept, pair)
			}
		}
	}
	return strings.Join(kept, "; ")
}

// loopbackHost reports whether host is a loopback address or a name that
// is loopback by definition (localhost, *.localhost: RFC 6761), without
// resolving it.
func loopbackHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// templatePath replaces the segments of p that name one resource (a
// number, a UUID, an object id) with {id}.
func templatePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if idSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	if t := strings.Join(segs, "/"); t != "" {
		return t
	}
	return "/"
}

// jsonInputError turns an encoding/json error of data (or of the value
// that starts at base in data) into an InputError at its line and column.
func jsonInputError(file string, data []byte, base int64, err error) *InputError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		ie := inputErrorAt(file, data, base+syn.Offset, "invalid JSON: "+syn.Error())
		ie.Err = err
		return ie
	case errors.As(err, &typ):
		msg := fmt.Sprintf("%s is %s, want %s", typ.Field, jsonKindArticle(typ.Value), jsonKindOf(typ.Type))
		if typ.Field == "" {
			msg = fmt.Sprintf("a JSON %s, want %s", typ.Value, jsonKindOf(typ.Type))
		}
		return inputErrorAt(file, data, base+typ.Offset, msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return inputErrorAt(file, data, int64(len(data))+1, "invalid JSON: unexpected end of the file")
	}
	return &InputError{File: file, Msg: "invalid JSON: " + err.Error(), Err: err}
}

// jsonKindOf names the JSON a Go type decodes from: "a list", "an object",
// "text", "a number", "true or false".
func jsonKindOf(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// jsonKindArticle puts an article before encoding/json's name of a JSON
// value ("an object", "a string", "a number").
func jsonKindArticle(v string) string {
	switch {
	case v == "":
		return "a value"
	case strings.ContainsAny(v[:1], "aeiou"):
		return "an " + v
	}
	return "a " + v
}

// harEntryOffsets finds where each of log.entries starts in data (the
// offset of its '{'), for messages; nil if the walk fails (the caller then
// reports entries without a line).
func harEntryOffsets(data []byte) []int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	// inObject walks the keys of the object whose '{' was just read,
	// calling at for each key and skipping the values at does not consume.
	var inObject func(at func(key string) (bool, error)) error
	inObject = func(at func(key string) (bool, error)) error {
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			used, err := at(key)
			if err != nil {
				return err
			}
			if !used {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // '}'
		return err
	}
	expect := func(d json.Delim) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != d {
			return fmt.Errorf("want %v", d)
		}
		return nil
	}
	var offsets []int64
	err := expect('{')
	if err == nil {
		err = inObject(func(key string) (bool, error) {
			if key != "log" {
				return false, nil
			}
			if err := expect('{'); err != nil {
				return true, err
			}
			return true, inObject(func(key string) (bool, error) {
				if key != "entries" {
					return false, nil
				}
				if err := expect('['); err != nil {
					return true, err
				}
				for dec.More() {
					off := dec.InputOffset()
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return true, err
					}
					// InputOffset is just past the previous token: move to
					// the entry's '{'.
					if j := bytes.IndexByte(data[off:], '{'); j >= 0 {
						off += int64(j)
					}
					offsets = append(offsets, off)
				}
				_, err := dec.Token() // ']'
				return true, err
			})
		})
	}
	if err != nil {
		return nil
	}
	return offsets
}

// minCaptureLen is the shortest response value harCaptures looks for in
// later requests: shorter ones (ids, flags) would match by accident.
const minCaptureLen = 8

// harCaptures replaces, in the requests after a setup request, the values
// its recorded JSON response returned (a token) with {{name}}, and gives
// the setup request a Capture of them. name is the value's last path
// element ("token" for data.token), made unique with a number.
func harCaptures(rs []Request, responses []harContent) {
	used := map[string]bool{}
	for i := range rs {
		if !rs[i].Setup || !strings.Contains(strings.ToLower(responses[i].MimeType), "json") || responses[i].Encoding != "" {
			continue
		}
		var doc any
		if json.Unmarshal([]byte(responses[i].Text), &doc) != nil {
			continue
		}
		leaves := map[string]string{} // value → dotted path
		jsonLeaves(doc, "", leaves)
		values := make([]string, 0, len(leaves))
		for v := range leaves {
			values = append(values, v)
		}
		sort.Slice(values, func(a, b int) bool { // longest first, then by text
			if len(values[a]) != len(values[b]) {
				return len(values[a]) > len(values[b])
			}
			return values[a] < values[b]
		})
		for _, v := range values {
			var later []int
			for j := i + 1; j < len(rs); j++ {
				if requestContains(rs[j], v) {
					later = append(later, j)
				}
			}
			if len(later) == 0 {
				continue
			}
			p := leaves[v]
			name := p[strings.LastIndexByte(p, '.')+1:]
			if !validVarName(name) {
				name = "v"
			}
			for base, n := name, 2; used[name]; n++ {
				name = base + strconv.Itoa(n)
			}
			used[name] = true
			if rs[i].Capture == nil {
				rs[i].Capture = map[string]string{}
			}
			rs[i].Capture[name] = p
			for _, j := range later {
				rs[j] = replaceInRequest(rs[j], v, "{{"+name+"}}")
			}
		}
	}
}

// validVarName reports a name usable as {{name}}.
var validVarName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString

// jsonLeaves collects the string leaves of v of at least minCaptureLen
// characters, by dotted path (array indexes as numbers); the first path
// of a value wins.
func jsonLeaves(v any, p string, out map[string]string) {
	join := func(k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			jsonLeaves(v[k], join(k), out)
		}
	case []any:
		for i, e := range v {
			jsonLeaves(e, join(strconv.Itoa(i)), out)
		}
	case string:
		if len(v) >= minCaptureLen && !strings.Contains(v, "{{") {
			if _, seen := out[v]; !seen {
				out[v] = p
			}
		}
	}
}

// requestContains reports whether r sends s in its URL, a header value or
// its body.
func requestContains(r Request, s string) bool {
	if strings.Contains(r.URL, s) || bytes.Contains(r.Body, []byte(s)) {
		return true
	}
	for _, vs := range r.Header {
		for _, v := range vs {
			if strings.Contains(v, s) {
				return true
			}
		}
	}
	return false
}

// replaceInRequest returns r with every s in its URL, header values and
// body replaced by with.
func replaceInRequest(r Request, s, with string) Request {
	r.URL = strings.ReplaceAll(r.URL, s, with)
	if r.Body != nil {
		r.Body = bytes.ReplaceAll(r.Body, []byte(s), []byte(with))
	}
	if r.Header != nil {
		h := make(http.Header, len(r.Header))
		for k, vs := range r.Header {
			for _, v := range vs {
				h[k] = append(h[k], strings.ReplaceAll(v, s, with))
			}
		}
		r.Header = h
	}
	return r
}
