package invariants

import "testing"

// TestKeyPrefix: evidence names a key only when the profile uses one.
func TestKeyPrefix(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  any
		want string
	}{
		{"no key", "", ""},
		{"text key", "key-3", `key "key-3": `},
		{"number key", int64(7), "key 7: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keyPrefix(tc.key); got != tc.want {
				t.Fatalf("keyPrefix(%v) = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
}
