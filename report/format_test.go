package report

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestFormatsBuiltin: each kind lists its built-in formats in the order the
// commands' help gives them, and every one of them is found by name.
func TestFormatsBuiltin(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  []string
	}{
		{"run", RunFormats.Names(), []string{"table", "json", "none"}},
		{"report", ReportFormats.Names(), []string{"table", "markdown", "junit", "html"}},
		{"compare", CompareFormats.Names(), []string{"table", "markdown", "json"}},
		{"history", HistoryFormats.Names(), []string{"table", "markdown", "json"}},
		{"count", CountFormats.Names(), []string{"table", "json", "none"}},
		{"list", ListFormats.Names(), []string{"table", "json"}},
		{"audit", AuditFormats.Names(), []string{"table", "markdown", "none"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Equal(tc.names, tc.want) {
				t.Fatalf("names %q, want %q", tc.names, tc.want)
			}
		})
	}
}

// TestFormatsRegistry: Register adds a format after the others, Lookup
// finds it, an unknown name is an *UnknownFormatError listing the known
// ones, and a name registered twice panics.
func TestFormatsRegistry(t *testing.T) {
	f := newFormats("test", format[string]{"plain", func(w io.Writer, d string, _ FormatOptions) error {
		_, err := io.WriteString(w, d)
		return err
	}})
	f.Register("shout", func(w io.Writer, d string, _ FormatOptions) error {
		_, err := io.WriteString(w, strings.ToUpper(d))
		return err
	})
	for _, tc := range []struct {
		name    string
		format  string
		want    string
		wantErr string
	}{
		{"built-in", "plain", "hi", ""},
		{"registered", "shout", "HI", ""},
		{"unknown", "xml", "", `-format "xml": want plain or shout`},
		{"empty", "", "", `-format "": want plain or shout`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write, err := f.Lookup(tc.format)
			if tc.wantErr != "" {
				var ue *UnknownFormatError
				if !errors.As(err, &ue) || err.Error() != tc.wantErr || ue.Kind != "test" {
					t.Fatalf("err %v, want an *UnknownFormatError %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := write(&b, "hi", FormatOptions{}); err != nil || b.String() != tc.want {
				t.Fatalf("wrote %q, %v; want %q", b.String(), err, tc.want)
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("registering plain twice did not panic")
			}
		}()
		f.Register("plain", func(io.Writer, string, FormatOptions) error { return nil })
	})
}

func TestOrList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  string
	}{
		{"none", nil, "nothing"},
		{"one", []string{"a"}, "a"},
		{"two", []string{"a", "b"}, "a or b"},
		{"three", []string{"a", "b", "c"}, "a, b or c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OrList(tc.names); got != tc.want {
				t.Fatalf("OrList(%q) = %q, want %q", tc.names, got, tc.want)
			}
		})
	}
}
