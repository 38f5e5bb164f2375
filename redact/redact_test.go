package redact

import "testing"

func TestScrub(t *testing.T) {
	for _, tc := range []struct {
		name, msg string
		secrets   []string
		want      string
	}{
		{name: "one secret", msg: "auth failed for s3cret", secrets: []string{"s3cret"}, want: "auth failed for REDACTED"},
		{name: "short secrets stay", msg: "pw a at b", secrets: []string{"pw", "a"}, want: "pw a at b"},
		{name: "longest first", msg: "key abc123 and abc", secrets: []string{"abc", "abc123"}, want: "key REDACTED and REDACTED"},
		{name: "no secrets", msg: "x", want: "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scrub(tc.msg, tc.secrets...); got != tc.want {
				t.Errorf("Scrub(%q, %q) = %q, want %q", tc.msg, tc.secrets, got, tc.want)
			}
		})
	}
}
