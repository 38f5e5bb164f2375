package discover_test

import (
	"errors"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/collide-dev/collide/discover"
)

// TestFromHAR: a Chrome-like export of a session with the demo becomes the
// requests of its golden file: static assets, the preflight and the data:
// URL skipped, browser headers dropped, the login marked setup and its
// token captured into the later Authorization headers.
//
// cookies.har (a Firefox-like export): the session cookie the login set is
// dropped from the later request (a replay's jar sends the fresh one),
// form params become the body, a ws: entry is skipped, and a GET of the
// login page is not setup.
func TestFromHAR(t *testing.T) {
	for _, name := range []string{"demo", "cookies"} {
		t.Run(name, func(t *testing.T) {
			rs, err := discover.FromHAR(name+".har", readTestdata(t, "har/"+name+".har"))
			if err != nil {
				t.Fatal(err)
			}
			requestsGolden(t, "testdata/har/"+name+".golden.json", rs)
		})
	}
}

// TestFromHARRemote: an entry to a host outside loopback is refused, naming
// the file, the entry's line and index, unless remote hosts are allowed.
func TestFromHARRemote(t *testing.T) {
	data := readTestdata(t, "har/remote.har")
	cases := []struct {
		name    string
		opts    []discover.HAROption
		wantErr string
	}{
		{"refused by default", nil, "remote.har:392:7: entry 3: request to api.shop.example, a host outside loopback, refused"},
		{"refused when not allowed", []discover.HAROption{discover.AllowRemote(false)}, "remote.har:392:7: entry 3: request to api.shop.example"},
		{"kept when allowed", []discover.HAROption{discover.AllowRemote(true)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, err := discover.FromHAR("remote.har", data, c.opts...)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := rs[2].URL; got != "https://api.shop.example/counters/1/increment" {
					t.Errorf("request 2: URL %s, want the remote one kept", got)
				}
				return
			}
			var ie *discover.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want an *InputError starting %q", err, c.wantErr)
			}
		})
	}
}

// TestFromHARErrors: a file that is not HAR is one InputError naming the
// file, with line:col where the JSON is wrong.
func TestFromHARErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		want string
	}{
		{"missing comma", "broken.har", `broken.har:11:11: invalid JSON: invalid character '"' after object key:value pair`},
		{"headers not a list", "wrong-type.har", `wrong-type.har:10:89: entry 1: request.headers is an object, want a list`},
		{"not a HAR", "not-har.json", `not-har.json: not a HAR file: no log.entries`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := discover.FromHAR(c.file, readTestdata(t, "har/"+c.file))
			var ie *discover.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want an *InputError", err, err)
			}
			if err.Error() != c.want {
				t.Errorf("error\n%s\nwant\n%s", err, c.want)
			}
		})
	}
}

// TestFromHARReplay: the HAR's requests, moved onto a fresh demo (as
// drive does) with the login's captured token rendered in, succeed again.
func TestFromHARReplay(t *testing.T) {
	rs, err := discover.FromHAR("demo.har", readTestdata(t, "har/demo.har"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serveDemo(t, "racy")
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, r := range rs {
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		r.URL = strings.TrimPrefix(r.URL, u.Scheme+"://"+u.Host)
		status, body := send(t, base.String(), r, vars)
		if status < 200 || status > 299 {
			t.Errorf("%s %s %s: %d %s, want 2xx", r.ID, r.Method, r.URL, status, body)
		}
		got, err := r.Captured(body)
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(vars, got)
	}
	if vars["token"] == "" || vars["token"] == "K7QZ2M4XPL9R3TVW8YBN6CDF5H" {
		t.Errorf("token %q: want the fresh one of this login", vars["token"])
	}
}
