package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Median returns the median of xs (the mean of the two middle values for an
// even count); NaN for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Load is one load run's figures, whichever tool produced them.
type Load struct {
	Tool     string        `json:"tool"`
	Mode     string        `json:"mode"` // "saturation" or "fixed"
	Requests uint64        `json:"requests"`
	OK       uint64        `json:"ok"`
	Rate     float64       `json:"rate"`       // requests sent per second
	Through  float64       `json:"throughput"` // successful responses per second
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	// CPU is the load generator's user+system time; CPUPerReq divides it by
	// Requests. ServerCPUPerReq is the demo server's share.
	CPU             time.Duration `json:"cpu"`
	CPUPerReq       time.Duration `json:"cpu_per_request"`
	ServerCPUPerReq time.Duration `json:"server_cpu_per_request"`
	MaxRSSKB        int64         `json:"max_rss_kb"`
	Load1           float64       `json:"load1"` // 1-minute load average at the start
	Rep             int           `json:"rep"`
	Note            string        `json:"note,omitempty"`
}

// vegetaReport is the part of `vegeta report -type=json` we read.
type vegetaReport struct {
	Latencies struct {
		P50 int64 `json:"50th"`
		P99 int64 `json:"99th"`
	} `json:"latencies"`
	Requests    uint64            `json:"requests"`
	Rate        float64           `json:"rate"`
	Throughput  float64           `json:"throughput"`
	Success     float64           `json:"success"`
	StatusCodes map[string]uint64 `json:"status_codes"`
	Errors      []string          `json:"errors"`
}

// ParseVegeta reads the JSON report of `vegeta report -type=json`.
func ParseVegeta(b []byte) (Load, error) {
	var r vegetaReport
	if err := json.Unmarshal(b, &r); err != nil {
		return Load{}, fmt.Errorf("vegeta report: %w", err)
	}
	l := Load{Tool: "vegeta", Requests: r.Requests, Rate: r.Rate, Through: r.Throughput,
		P50: time.Duration(r.Latencies.P50), P99: time.Duration(r.Latencies.P99)}
	l.OK = uint64(math.Round(r.Success * float64(r.Requests)))
	if len(r.Errors) > 0 {
		l.Note = "errors: " + strings.Join(r.Errors[:min(3, len(r.Errors))], "; ")
	}
	return l, nil
}

// collideResult is the part of collide's result.json we read.
type collideResult struct {
	Verdict string `json:"verdict"`
	Error   string `json:"error"`
	Attack  []struct {
		Requests uint64        `json:"requests"`
		Rate     float64       `json:"rate"`
		Through  float64       `json:"throughput"`
		OK       uint64        `json:"ok"`
		P50      time.Duration `json:"p50"`
		P99      time.Duration `json:"p99"`
		Errors   []string      `json:"errors"`
	} `json:"attack"`
}

// ParseCollide reads a run's result.json; verdict is the run's verdict, and
// note says why it is not "pass".
func ParseCollide(b []byte) (l Load, verdict string, err error) {
	var r collideResult
	if err := json.Unmarshal(b, &r); err != nil {
		return Load{}, "", fmt.Errorf("result.json: %w", err)
	}
	if len(r.Attack) != 1 {
		return Load{}, r.Verdict, fmt.Errorf("result.json: %d attack metrics, want 1 (verdict %s: %s)", len(r.Attack), r.Verdict, r.Error)
	}
	a := r.Attack[0]
	l = Load{Tool: "collide", Requests: a.Requests, OK: a.OK, Rate: a.Rate, Through: a.Through, P50: a.P50, P99: a.P99}
	if r.Verdict != "pass" {
		l.Note = "verdict " + r.Verdict + ": " + r.Error
	}
	if len(a.Errors) > 0 {
		l.Note = strings.TrimPrefix(l.Note+"; errors: "+strings.Join(a.Errors[:min(3, len(a.Errors))], "; "), "; ")
	}
	return l, r.Verdict, nil
}

// ParseWrk reads wrk's text output, run with --latency.
func ParseWrk(out string) (Load, error) {
	l := Load{Tool: "wrk"}
	var haveRate, haveP50, haveP99, haveReqs bool
	var secs float64
	var non2xx uint64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return l, fmt.Errorf("wrk: %q: %w", sc.Text(), err)
			}
			l.Rate, haveRate = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return l, fmt.Errorf("wrk: %q: %w", sc.Text(), err)
			}
			if f[0] == "50%" {
				l.P50, haveP50 = d, true
			} else {
				l.P99, haveP99 = d, true
			}
		case len(f) >= 5 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return l, fmt.Errorf("wrk: %q: %w", sc.Text(), err)
			}
			d, err := parseWrkDuration(strings.TrimSuffix(f[3], ","))
			if err != nil {
				return l, fmt.Errorf("wrk: %q: %w", sc.Text(), err)
			}
			l.Requests, secs, haveReqs = n, d.Seconds(), true
		case len(f) == 5 && f[0] == "Non-2xx" && f[3] == "responses:": // "Non-2xx or 3xx responses: N"
			non2xx, _ = strconv.ParseUint(f[4], 10, 64)
		case len(f) >= 2 && f[0] == "Socket" && f[1] == "errors:":
			l.Note = strings.TrimSpace(sc.Text())
		}
	}
	if !haveRate || !haveP50 || !haveP99 || !haveReqs {
		return l, fmt.Errorf("wrk: output lacks Requests/sec, the 50%%/99%% latencies or the request count (run with --latency):\n%s", out)
	}
	l.OK = l.Requests - min(non2xx, l.Requests)
	if secs > 0 {
		l.Through = float64(l.OK) / secs
	}
	return l, nil
}

// parseWrkDuration parses wrk's "812.00us", "1.23ms", "2.00s", "1.50m".
func parseWrkDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}, {"h", time.Hour}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("unknown duration %q", s)
}

// Load1 returns the 1-minute load average (NaN if unreadable).
func Load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return math.NaN()
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// LoadAvg returns /proc/loadavg's three averages as text ("1.02 0.88 0.75").
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func splitLines(b []byte) []string { return strings.Split(string(b), "\n") }

// cutColon splits "key : value" around its first colon, trimming both.
func cutColon(line string) (k, v string, ok bool) {
	k, v, ok = strings.Cut(line, ":")
	return strings.TrimSpace(k), strings.TrimSpace(v), ok
}
