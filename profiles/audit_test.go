package profiles

import (
	"strings"
	"testing"
)

// TestBuiltinAudit: every built-in profile names its audit test and resource,
// and the seven tests of the audit (TEST-RC-001 … 007) are all covered.
func TestBuiltinAudit(t *testing.T) {
	covered := map[string]bool{}
	for _, b := range Builtins() {
		p, err := Load(b.Name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Audit == nil {
			t.Errorf("%s: no audit metadata", b.Name)
			continue
		}
		if !ValidAuditID(p.Audit.ID) || p.Audit.Resource == "" || p.Audit.Protection == "" || p.Audit.Pattern == "" {
			t.Errorf("%s: incomplete audit metadata %+v", b.Name, *p.Audit)
		}
		if !strings.HasPrefix(p.Audit.ID, "TEST-RC-") && p.Audit.Title == "" {
			t.Errorf("%s: id %s of its own needs a title", b.Name, p.Audit.ID)
		}
		covered[p.Audit.ID] = true
	}
	for _, id := range []string{"TEST-RC-001", "TEST-RC-002", "TEST-RC-003", "TEST-RC-004", "TEST-RC-005", "TEST-RC-006", "TEST-RC-007"} {
		if !covered[id] {
			t.Errorf("no built-in profile performs %s", id)
		}
	}
}

// TestAuditIDs: which ids the audit metadata accepts.
func TestAuditIDs(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"TEST-RC-001", true},
		{"SEC-OVERSELL", true},
		{"RC-7", true},
		{"TEST", false},
		{"test-rc-001", false},
		{"TEST--RC", false},
		{"-TEST-RC", false},
		{"1TEST-RC", false},
		{"TEST RC", false},
		{"", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if got := ValidAuditID(tc.id); got != tc.want {
				t.Errorf("ValidAuditID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}
