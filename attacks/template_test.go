package attacks

import (
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	t.Setenv("COLLIDE_TEST_TOKEN", "s3cret")
	vars := &Vars{Seq: 42, UUID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Key: "key-3"}
	for _, tc := range []struct {
		name, in, want, wantErr string
	}{
		{name: "literal", in: "/counters/1/increment", want: "/counters/1/increment"},
		{name: "empty", in: "", want: ""},
		{name: "seq", in: "/items/{{seq}}", want: "/items/42"},
		{name: "spaces inside braces", in: "{{ seq }}-{{ key }}", want: "42-key-3"},
		{name: "uuid in json", in: `{"id":"{{uuid}}"}`, want: `{"id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8"}`},
		{name: "env", in: `Bearer {{env "COLLIDE_TEST_TOKEN"}}`, want: "Bearer s3cret"},
		{name: "unknown placeholder", in: "/x/{{sq}}", wantErr: "unknown placeholder {{sq}}"},
		{name: "unclosed", in: "/x/{{seq", wantErr: "unclosed {{"},
		{name: "env unset", in: `{{env "COLLIDE_NOPE_UNSET"}}`, wantErr: "COLLIDE_NOPE_UNSET is not set"},
		{name: "env unquoted", in: `{{env NAME}}`, wantErr: `want {{env "NAME"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Compile(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Compile(%q) err = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tpl.Render(vars); got != tc.want {
				t.Fatalf("Render = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"/a/{{seq}}", "{{uuid}}{{key}}", "{{", "}}{{", `{{env "HOME"}}`, "{{ }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := Compile(s)
		if err != nil {
			return
		}
		out := tpl.Render(&Vars{Seq: 1, UUID: "u", Key: "k"})
		if !strings.Contains(s, "{{") && out != s {
			t.Fatalf("literal %q rendered as %q", s, out)
		}
	})
}

func BenchmarkTemplateRender(b *testing.B) {
	tpl, err := Compile(`{"order":"{{uuid}}","seq":{{seq}},"key":"{{key}}"}`)
	if err != nil {
		b.Fatal(err)
	}
	v := &Vars{Seq: 123456, UUID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", Key: "key-7"}
	b.ReportAllocs()
	for b.Loop() {
		_ = tpl.Render(v)
	}
}
