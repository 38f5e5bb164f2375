package bench

import (
	"math"
	"testing"
	"time"
)

// These tests are fast and always run: they hold the parsers of the tools'
// outputs that the long benchmarks depend on.

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

const wrkOut = `Running 6s test @ http://127.0.0.1:34091/healthz
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.76ms    5.67ms  77.64ms   90.14%
    Req/Sec     7.37k     1.88k   13.99k    63.00%
  Latency Distribution
     50%  812.00us
     75%    4.32ms
     90%    9.30ms
     99%    1.02s
  73559 requests in 5.02s, 9.40MB read
  Non-2xx or 3xx responses: 59
Requests/sec:  14654.48
Transfer/sec:      1.87MB
`

func TestParseWrk(t *testing.T) {
	l, err := ParseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	if l.Rate != 14654.48 || l.P50 != 812*time.Microsecond || l.P99 != 1020*time.Millisecond || l.Requests != 73559 || l.OK != 73500 {
		t.Fatalf("%+v", l)
	}
	if want := 73500 / 5.02; math.Abs(l.Through-want) > 0.01 {
		t.Fatalf("throughput %v, want %v", l.Through, want)
	}
	if _, err := ParseWrk("Requests/sec: 1\n"); err == nil {
		t.Fatal("no error for output without latencies")
	}
}

func TestParseVegeta(t *testing.T) {
	l, err := ParseVegeta([]byte(`{"latencies":{"total":1,"mean":3436827,"50th":2025247,"90th":7697010,"95th":11178984,"99th":23092928,"max":89814570,"min":64041},
		"requests":36947,"rate":7388.7,"throughput":7387.5,"success":1,"status_codes":{"200":36947},"errors":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Requests != 36947 || l.OK != 36947 || l.Through != 7387.5 || l.P50 != 2025247 || l.P99 != 23092928 {
		t.Fatalf("%+v", l)
	}
}

func TestParseCollide(t *testing.T) {
	l, verdict, err := ParseCollide([]byte(`{"verdict":"pass","attack":[{"op":"get","requests":10,"rate":5,"throughput":4.5,"ok":9,"p50":1000,"p99":2000}]}`))
	if err != nil || verdict != "pass" || l.Requests != 10 || l.OK != 9 || l.Through != 4.5 || l.P99 != 2000 || l.Note != "" {
		t.Fatalf("%+v %s %v", l, verdict, err)
	}
	if _, _, err := ParseCollide([]byte(`{"verdict":"error","error":"boom","attack":[]}`)); err == nil {
		t.Fatal("no error without attack metrics")
	}
}

func TestParseTop(t *testing.T) {
	cum, total := parseTop(`Duration: 6.86s, Total samples = 5.62s (81.95%)
      flat  flat%   sum%        cum   cum%
     0.02s  0.36%  0.36%      1.69s 30.07%  github.com/tsenart/vegeta/v12/lib.(*Attacker).hit
         0     0% 17.44%      650ms 11.57%  github.com/collide-dev/collide/attacks.(*opRun).RoundTrip
`)
	if total != 5.62 || cum["github.com/tsenart/vegeta/v12/lib.(*Attacker).hit"] != 1.69 || cum["github.com/collide-dev/collide/attacks.(*opRun).RoundTrip"] != 0.65 {
		t.Fatalf("%v %v", cum, total)
	}
}

func TestSlope(t *testing.T) {
	if s := slope([]float64{1, 2, 3}, []float64{10, 12, 14}); s != 2 {
		t.Fatalf("slope = %v", s)
	}
}
