package chaos_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	client "github.com/Shopify/toxiproxy/v2/client"

	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/profiles"
)

var builtin = []string{"bandwidth", "latency", "limit_data", "reset_peer", "slow_close", "timeout"}

func TestNamesAndLookup(t *testing.T) {
	if got := chaos.Names(); !reflect.DeepEqual(got, builtin) {
		t.Errorf("Names() = %v, want %v", got, builtin)
	}
	for _, n := range builtin {
		k, err := chaos.Lookup(n)
		if err != nil || k.Name() != n {
			t.Errorf("Lookup(%s) = %v, %v", n, k, err)
		}
	}
	_, err := chaos.Lookup("packet_loss")
	if err == nil {
		t.Fatal("Lookup of an unknown fault succeeded")
	}
	want := `fault: unknown fault "packet_loss" (known: bandwidth, latency, limit_data, reset_peer, slow_close, timeout)`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering latency twice did not panic")
		}
	}()
	k, _ := chaos.Lookup("latency")
	chaos.Register(k)
}

func TestValidate(t *testing.T) {
	d := func(s string) profiles.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return profiles.Duration(v)
	}
	ok := func(f profiles.Fault) profiles.Fault {
		if f.Link == "" {
			f.Link = "target"
		}
		return f
	}
	for _, tc := range []struct {
		name string
		f    profiles.Fault
		want string // "" = valid
	}{
		// Common fields.
		{"link missing", profiles.Fault{Fault: "reset_peer"}, "link: required"},
		{"link unknown", profiles.Fault{Link: "cache", Fault: "reset_peer"}, `link: must be target or database, got "cache"`},
		{"link database", ok(profiles.Fault{Link: "database", Fault: "reset_peer"}), ""},
		{"fault missing", ok(profiles.Fault{}), "fault: required (one of bandwidth, latency"},
		{"fault unknown", ok(profiles.Fault{Fault: "jitter"}), `fault: unknown fault "jitter" (known: bandwidth`},
		{"stream upstream", ok(profiles.Fault{Fault: "reset_peer", Stream: "upstream"}), ""},
		{"stream downstream", ok(profiles.Fault{Fault: "reset_peer", Stream: "downstream"}), ""},
		{"stream bad", ok(profiles.Fault{Fault: "reset_peer", Stream: "both"}), `stream: must be upstream or downstream, got "both"`},
		{"toxicity 0", ok(profiles.Fault{Fault: "reset_peer", Toxicity: f64(0)}), ""},
		{"toxicity 1", ok(profiles.Fault{Fault: "reset_peer", Toxicity: f64(1)}), ""},
		{"toxicity above 1", ok(profiles.Fault{Fault: "reset_peer", Toxicity: f64(1.5)}), "toxicity: must be between 0 and 1, got 1.5"},
		{"toxicity negative", ok(profiles.Fault{Fault: "reset_peer", Toxicity: f64(-0.1)}), "toxicity: must be between 0 and 1"},
		{"from negative", ok(profiles.Fault{Fault: "reset_peer", From: -1}), "from: must not be negative"},
		{"for negative", ok(profiles.Fault{Fault: "reset_peer", For: -1}), "for: must not be negative"},
		{"window", ok(profiles.Fault{Fault: "reset_peer", From: d("1s"), For: d("2s")}), ""},

		// latency
		{"latency ok", ok(profiles.Fault{Fault: "latency", Latency: d("20ms"), Jitter: d("20ms")}), ""},
		{"latency missing", ok(profiles.Fault{Fault: "latency"}), "latency: must be > 0"},
		{"latency negative", ok(profiles.Fault{Fault: "latency", Latency: -1}), "latency: must not be negative"},
		{"latency sub-ms", ok(profiles.Fault{Fault: "latency", Latency: d("500us")}), "latency: must be at least 1ms"},
		{"latency jitter too big", ok(profiles.Fault{Fault: "latency", Latency: d("10ms"), Jitter: d("20ms")}), "jitter: must not exceed latency (10ms), got 20ms"},
		{"latency jitter negative", ok(profiles.Fault{Fault: "latency", Latency: d("10ms"), Jitter: -1}), "jitter: must not be negative"},
		{"latency foreign field", ok(profiles.Fault{Fault: "latency", Latency: d("10ms"), Delay: d("1s")}), "delay: not used by fault latency (it takes: latency, jitter)"},

		// reset_peer
		{"reset_peer at once", ok(profiles.Fault{Fault: "reset_peer"}), ""},
		{"reset_peer after timeout", ok(profiles.Fault{Fault: "reset_peer", Timeout: d("100ms")}), ""},
		{"reset_peer timeout negative", ok(profiles.Fault{Fault: "reset_peer", Timeout: -1}), "timeout: must not be negative"},
		{"reset_peer foreign field", ok(profiles.Fault{Fault: "reset_peer", Latency: d("1ms")}), "latency: not used by fault reset_peer (it takes: timeout)"},

		// timeout
		{"timeout forever", ok(profiles.Fault{Fault: "timeout"}), ""},
		{"timeout 2s", ok(profiles.Fault{Fault: "timeout", Timeout: d("2s")}), ""},
		{"timeout sub-ms", ok(profiles.Fault{Fault: "timeout", Timeout: d("10us")}), "timeout: must be at least 1ms"},
		{"timeout foreign field", ok(profiles.Fault{Fault: "timeout", Bytes: 5}), "bytes: not used by fault timeout"},

		// bandwidth
		{"bandwidth ok", ok(profiles.Fault{Fault: "bandwidth", Rate: 64}), ""},
		{"bandwidth missing", ok(profiles.Fault{Fault: "bandwidth"}), "rate: must be > 0 (KB/s), got 0"},
		{"bandwidth negative", ok(profiles.Fault{Fault: "bandwidth", Rate: -5}), "rate: must be > 0 (KB/s), got -5"},
		{"bandwidth foreign field", ok(profiles.Fault{Fault: "bandwidth", Rate: 1, Timeout: d("1s")}), "timeout: not used by fault bandwidth (it takes: rate)"},

		// slow_close
		{"slow_close ok", ok(profiles.Fault{Fault: "slow_close", Delay: d("1s")}), ""},
		{"slow_close missing", ok(profiles.Fault{Fault: "slow_close"}), "delay: must be > 0"},
		{"slow_close foreign field", ok(profiles.Fault{Fault: "slow_close", Delay: d("1s"), Rate: 1}), "rate: not used by fault slow_close (it takes: delay)"},

		// limit_data
		{"limit_data ok", ok(profiles.Fault{Fault: "limit_data", Bytes: 1024}), ""},
		{"limit_data missing", ok(profiles.Fault{Fault: "limit_data"}), "bytes: must be > 0, got 0"},
		{"limit_data negative", ok(profiles.Fault{Fault: "limit_data", Bytes: -1}), "bytes: must be > 0, got -1"},
		{"limit_data foreign field", ok(profiles.Fault{Fault: "limit_data", Bytes: 1, Jitter: d("1ms")}), "jitter: not used by fault limit_data (it takes: bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := chaos.Validate(tc.f)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tc.want != "" && err == nil:
				t.Errorf("Validate = nil, want %q", tc.want)
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want):
				t.Errorf("Validate = %q, want it to start with %q", err, tc.want)
			}
		})
	}
}

func TestToxicAttributes(t *testing.T) {
	for _, tc := range []struct {
		f     profiles.Fault
		typ   string
		attrs client.Attributes
	}{
		{profiles.Fault{Fault: "latency", Latency: ms(150), Jitter: ms(20)}, "latency", client.Attributes{"latency": int64(150), "jitter": int64(20)}},
		{profiles.Fault{Fault: "latency", Latency: profiles.Duration(1500 * time.Microsecond)}, "latency", client.Attributes{"latency": int64(1), "jitter": int64(0)}},
		{profiles.Fault{Fault: "reset_peer", Timeout: ms(2000)}, "reset_peer", client.Attributes{"timeout": int64(2000)}},
		{profiles.Fault{Fault: "timeout"}, "timeout", client.Attributes{"timeout": int64(0)}},
		{profiles.Fault{Fault: "bandwidth", Rate: 64}, "bandwidth", client.Attributes{"rate": int64(64)}},
		{profiles.Fault{Fault: "slow_close", Delay: profiles.Duration(time.Second)}, "slow_close", client.Attributes{"delay": int64(1000)}},
		{profiles.Fault{Fault: "limit_data", Bytes: 4096}, "limit_data", client.Attributes{"bytes": int64(4096)}},
	} {
		k, err := chaos.Lookup(tc.f.Fault)
		if err != nil {
			t.Fatal(err)
		}
		typ, attrs := k.Toxic(tc.f)
		if typ != tc.typ || !reflect.DeepEqual(attrs, tc.attrs) {
			t.Errorf("%s: Toxic = %s %v, want %s %v", tc.f.Fault, typ, attrs, tc.typ, tc.attrs)
		}
	}
}
