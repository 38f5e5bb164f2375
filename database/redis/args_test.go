package redis

import (
	"fmt"
	"testing"
)

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{`SET k v`, []string{"SET", "k", "v"}, false},
		{"  HSET  h\tf  \"a b\"  ", []string{"HSET", "h", "f", "a b"}, false},
		{`SET k "tab\there\x41\n"`, []string{"SET", "k", "tab\thereA\n"}, false},
		{`SET k 'a\'b\n'`, []string{"SET", "k", `a'b\n`}, false},
		{`SET k ""`, []string{"SET", "k", ""}, false},
		{`SET k "a"b`, nil, true},
		{`SET k 'a`, nil, true},
		{``, nil, true},
	} {
		args, err := redisArgs(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("redisArgs(%q): no error", tc.in)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%q", args) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("redisArgs(%q) = %q, %v; want %q", tc.in, args, err, tc.want)
		}
	}
}
