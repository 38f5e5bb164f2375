package postgres

import (
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:s3cret@h/db", "s3cret"},
		{"postgres://u@h/db?password=s3cret", "s3cret"},
		{"host=h password='a b\\'c'", "a b'c"},
		{"host=h", ""},
	} {
		if got := strings.Join(passwords(tc.in), ","); got != tc.want {
			t.Errorf("passwords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
