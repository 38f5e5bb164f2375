package tap_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos/tap"
)

// echoServer accepts connections on loopback and echoes what it reads, for
// streams that are not the protocol the tap expects.
func echoServer(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for range 10 { // bounded: the tests open fewer connections
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // bounds the echo
				io.Copy(c, c)                                   //nolint:errcheck // until the client closes
			}()
		}
	}()
	return ln.Addr().String()
}

// TestUnknownStreamStillForwarded: a stream that is not the configured
// protocol is forwarded byte for byte and the connection is marked
// undecodable.
func TestUnknownStreamStillForwarded(t *testing.T) {
	startup := binary.BigEndian.AppendUint32(nil, uint32(8+len("user\x00u\x00\x00")))
	startup = binary.BigEndian.AppendUint32(startup, 196608)
	startup = append(startup, "user\x00u\x00\x00"...)
	tests := []struct {
		name     string
		protocol tap.Protocol
		sends    [][]byte
	}{
		{name: "postgres client, echo server", protocol: tap.Postgres, sends: [][]byte{startup, []byte("not postgres at all"), bytes.Repeat([]byte{0xff}, 100_000)}},
		{name: "mysql, client speaks first", protocol: tap.MySQL, sends: [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), bytes.Repeat([]byte{0}, 100_000)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp := startTap(t, tap.Config{Upstream: echoServer(t), Protocol: tc.protocol, Recorder: tap.NewRecorder(100)})
			var d net.Dialer
			c, err := d.DialContext(context.Background(), "tcp", tp.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck // bounds the test
			for _, msg := range tc.sends {
				if _, err := c.Write(msg); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					t.Fatalf("read echo: %v", err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("echo differs from what was sent (%d bytes)", len(msg))
				}
			}
			if ev := eventsOf(tp, tap.EventUndecodable); len(ev) != 1 {
				t.Errorf("undecodable events %+v, want one", ev)
			} else {
				t.Logf("recorded: %v", ev[0].Err)
			}
		})
	}
}

// TestUpstreamDown: with nothing listening upstream, the client's
// connection is closed and the tap records why.
func TestUpstreamDown(t *testing.T) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	tp := startTap(t, tap.Config{Upstream: dead})
	var d net.Dialer
	c, err := d.DialContext(context.Background(), "tcp", tp.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // bounds the read
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("read %d bytes; want the connection closed", n)
	}
	ev := eventsOf(tp, tap.EventUpstream)
	if len(ev) != 1 || !strings.Contains(ev[0].Err.Error(), dead) {
		t.Fatalf("upstream events %+v", ev)
	}
}
