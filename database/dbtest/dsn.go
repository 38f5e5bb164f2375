package dbtest

import (
	"strings"
	"testing"

	"github.com/collide-dev/collide/database"
)

// DSNCase is one form of DSN and what a driver must make of it: the
// network and address it connects to (Address), the DSN pointed at a proxy
// (Through) and the DSN with its passwords hidden (Redact).
type DSNCase struct {
	Name, DSN         string
	Network, Address  string
	Through, Redacted string
}

// RunDSNCases checks d's Address, Through (to proxy) and Redact on every
// case, one subtest each.
func RunDSNCases(t *testing.T, d database.Driver, proxy string, cases []DSNCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			network, address, err := d.Address(tc.DSN)
			if err != nil || network != tc.Network || address != tc.Address {
				t.Errorf("Address = %q %q, %v; want %q %q", network, address, err, tc.Network, tc.Address)
			}
			got, err := d.Through(tc.DSN, proxy)
			if err != nil || got != tc.Through {
				t.Errorf("Through = %q, %v; want %q", got, err, tc.Through)
			}
			if got := d.Redact(tc.DSN); got != tc.Redacted {
				t.Errorf("Redact = %q, want %q", got, tc.Redacted)
			}
		})
	}
}

// DSNErrorCase is a DSN a driver cannot place behind a proxy, and a part of
// the error Address must give.
type DSNErrorCase struct{ Name, DSN, Want string }

// RunDSNErrors checks that d's Address fails on every case with an error
// containing Want, and that Through fails too.
func RunDSNErrors(t *testing.T, d database.Driver, cases []DSNErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			if _, _, err := d.Address(tc.DSN); err == nil || !strings.Contains(err.Error(), tc.Want) {
				t.Errorf("Address(%q) = %v, want an error containing %q", tc.DSN, err, tc.Want)
			}
			if _, err := d.Through(tc.DSN, "127.0.0.1:1"); err == nil {
				t.Errorf("Through(%q): no error", tc.DSN)
			}
		})
	}
}
