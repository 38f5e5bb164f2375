package stacks

import (
	"context"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		host    string
		wantErr bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"localhost", false},
		{"", false},
		{"10.0.0.5", true},
		{"192.0.2.10", true},
		{"8.8.8.8", true},
		{"::ffff:10.0.0.1", true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			err := CheckLoopback(context.Background(), "target", tc.host)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckLoopback(%q) = %v, want error %v", tc.host, err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--allow-remote") {
				t.Fatalf("error does not say how to allow it: %v", err)
			}
		})
	}
}
