package stacks

import (
	"context"
	"fmt"
	"net"
	"time"
)

// CheckLoopback returns an error unless host resolves only to loopback
// addresses (127.0.0.0/8, ::1). what names the thing for the message, e.g.
// "target" or "database". collide refuses remote targets unless the profile
// says allow_remote: true or the command line says --allow-remote.
func CheckLoopback(ctx context.Context, what, host string) error {
	if host == "" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return nil
		}
		return remoteErr(what, host)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return fmt.Errorf("%s host %q: %w", what, host, err)
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return remoteErr(what, host)
		}
	}
	return nil
}

func remoteErr(what, host string) error {
	return fmt.Errorf("%s %s is not on loopback: collide only attacks remote hosts when told to (allow_remote: true in the profile, or --allow-remote)", what, host)
}
