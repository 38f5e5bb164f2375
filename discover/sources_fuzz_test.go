package discover_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collide-dev/collide/demo"
	"github.com/collide-dev/collide/discover"
)

// checkSourceResult is the property every source keeps on any input: an
// *InputError of one line, or requests that each have an ID, a method and
// a URL.
func checkSourceResult(t *testing.T, rs []discover.Request, err error) {
	t.Helper()
	if err != nil {
		var ie *discover.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error %v (%T), want an *InputError", err, err)
		}
		if strings.ContainsAny(err.Error(), "\r\n") {
			t.Fatalf("error of more than one line: %q", err)
		}
		return
	}
	for _, r := range rs {
		if r.ID == "" || r.Method == "" || r.URL == "" || r.Endpoint == "" {
			t.Fatalf("incomplete request %+v", r)
		}
	}
}

// addSeeds adds the files of testdata/dir to f's corpus.
func addSeeds(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzFromHAR: no input makes FromHAR panic or fail otherwise than with
// an InputError.
func FuzzFromHAR(f *testing.F) {
	addSeeds(f, "har")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := discover.FromHAR("f.har", data, discover.AllowRemote(true))
		checkSourceResult(t, rs, err)
	})
}

// FuzzFromOpenAPI: no input makes FromOpenAPI panic or fail otherwise
// than with an InputError.
func FuzzFromOpenAPI(f *testing.F) {
	addSeeds(f, "openapi")
	f.Add(demo.OpenAPI())
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := discover.FromOpenAPI("f.json", data)
		checkSourceResult(t, rs, err)
	})
}
