package attacks

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// BenchmarkRelease is one burst of 30 requests with a body against a
// loopback server that speaks HTTP/1.1 and h2c, per release mode; besides
// the time per burst it reports the release spread (first release write's
// start to the last one's end): median and largest, in µs. last-byte-1 is
// last-byte with its tails written by one goroutine in a plain loop, the
// peer the parallel writers are measured against.
func BenchmarkRelease(b *testing.B) {
	base, _ := startServer(b, true, nil)
	u, _ := url.Parse(base)
	orders, _ := url.Parse(base + "/orders")
	for _, mode := range []string{"barrier", "last-byte-1", "last-byte", "single-packet"} {
		b.Run(mode, func(b *testing.B) {
			cfg := releaseConfig{base: u, timeout: 5 * time.Second, client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
			var rel releaser
			switch mode {
			case "last-byte-1":
				lb := newLastByte(cfg).(*lastByte)
				lb.writers = func(int) int { return 1 }
				rel = lb
			default:
				newRel, _ := lookupSync(mode)
				rel = newRel(cfg)
			}
			defer rel.close()
			ctx := context.Background()
			if err := rel.warm(ctx, 30); err != nil {
				b.Fatal(err)
			}
			reqs := make([]*outgoing, 30)
			var spreads []time.Duration
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for c := range reqs {
					h := http.Header{}
					h.Set(OpHeader, "1")
					h.Set("Content-Type", "application/json")
					reqs[c] = &outgoing{method: "POST", url: orders, header: h, body: []byte(`{"item":"book"}`)}
				}
				ex, spread := rel.release(ctx, reqs)
				for _, e := range ex {
					if e.err != nil || e.status != http.StatusCreated {
						b.Fatalf("status %d err %v", e.status, e.err)
					}
				}
				spreads = append(spreads, spread)
			}
			b.StopTimer()
			slices.Sort(spreads)
			b.ReportMetric(float64(spreads[len(spreads)/2].Nanoseconds())/1e3, "spread-p50-µs")
			b.ReportMetric(float64(spreads[len(spreads)-1].Nanoseconds())/1e3, "spread-max-µs")
		})
	}
}
