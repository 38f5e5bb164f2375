package chaos

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLeftoverDecision: which collide proxies CleanLeftovers removes, from
// the owner written in their names, against real processes: this one
// (live), a child that has exited (gone), this PID with another start time
// (a reused PID: gone), another host's (only forced) and an owner-less name
// (only forced).
func TestLeftoverDecision(t *testing.T) {
	me := Self()
	if me.Start == 0 {
		t.Skip("no /proc on this system: start times cannot be read")
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	exited := Owner{Host: me.Host, PID: child.Process.Pid, Start: 1}
	reused := Owner{Host: me.Host, PID: me.PID, Start: me.Start + 1}
	other := Owner{Host: me.Host + "-elsewhere", PID: me.PID, Start: me.Start}
	name := func(o Owner) string { return "collide-20261205T030000-ab12-target" + o.suffix() }
	cases := []struct {
		name   string
		proxy  string
		force  bool
		remove bool
		why    string
	}{
		{"this live process", name(me), false, false, ""},
		{"this live process, forced", name(me), true, false, ""},
		{"an exited process", name(exited), false, true, "is not running"},
		{"a reused pid", name(reused), false, true, "started later"},
		{"another host", name(other), false, false, ""},
		{"another host, forced", name(other), true, true, "another host"},
		{"no owner in the name", "collide-20261205T030000-ab12-target", false, false, ""},
		{"no owner in the name, forced", "collide-20261205T030000-ab12-target", true, true, "no owner"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, remove := leftover(tc.proxy, tc.force)
			if remove != tc.remove || !strings.Contains(l.Why, tc.why) {
				t.Fatalf("leftover(%q, force %v) = %+v, %v; want remove %v because %q", tc.proxy, tc.force, l, remove, tc.remove, tc.why)
			}
		})
	}
}

// TestProxyOwnerRoundTrip: the owner written into a proxy name parses back,
// and names that are not collide's with an owner do not parse.
func TestProxyOwnerRoundTrip(t *testing.T) {
	me := Self()
	base, o, ok := proxyOwner("collide-r1-database" + me.suffix())
	if !ok || base != "collide-r1-database" || o != me {
		t.Fatalf("proxyOwner = %q, %+v, %v; want %+v", base, o, ok, me)
	}
	for _, bad := range []string{"collide-r1-target", "other~h~1~2", "collide-r~h~x~2", "collide-r~h~0~2", "collide-r~h~1~-2", "collide-r~h~1"} {
		if _, _, ok := proxyOwner(bad); ok {
			t.Errorf("proxyOwner(%q) parsed", bad)
		}
	}
	if h := cleanHost("a b~c.example-1"); h != "a_b_c.example-1" {
		t.Errorf("cleanHost = %q", h)
	}
}
