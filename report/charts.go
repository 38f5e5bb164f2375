package report

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/collide-dev/collide/history"
)

// DefaultMaxPoints is how many operations the HTML latency chart draws at
// most, besides the ones that are not ok (see HTMLOptions.MaxPoints).
const DefaultMaxPoints = 5000

// namedOps maps each op id that the counterexample of a failed invariant
// names (its structured Ops, never its text) to the names of those
// invariants, each with the op's role in it: "never oversold (older job)".
func namedOps(r *Result) map[uint64][]string {
	named := map[uint64][]string{}
	for _, inv := range r.Invariants {
		if inv.Verdict != Fail {
			continue
		}
		for _, o := range inv.Ops {
			label := inv.Name
			if o.Role != "" {
				label += " (" + o.Role + ")"
			}
			if names := named[o.ID]; len(names) == 0 || names[len(names)-1] != label {
				named[o.ID] = append(named[o.ID], label)
			}
		}
	}
	return named
}

// timeline is what the charts need from a history: a sample of the ops for
// the latency scatter, outcome counts per time bucket, and the ops the
// evidence names.
type timeline struct {
	t0       time.Time     // the earliest invoke: x = 0
	span     time.Duration // the latest complete, relative to t0
	total    int
	nonOK    int
	minLat   time.Duration
	maxLat   time.Duration
	points   []point // sampled, in file order
	okShown  int
	okTotal  int
	nonShown int
	bucket   time.Duration
	buckets  []history.Counts
	named    []point // ops named by evidence, by id
	missing  []uint64
}

type point struct {
	id      uint64
	op      string
	at      time.Duration // invoke, relative to t0
	lat     time.Duration
	outcome history.Outcome
	status  int
	err     string
	named   []string // invariants whose evidence names the op
}

// readTimeline reads the history at path twice: once for its extent and
// counts, once to sample it. At most maxPoints ok ops are kept (evenly spread,
// deterministic); every op that is not ok is kept up to 4×maxPoints (then
// evenly spread too); ops in named are always kept.
func readTimeline(path string, named map[uint64][]string, maxPoints int) (*timeline, error) {
	if maxPoints <= 0 {
		maxPoints = DefaultMaxPoints
	}
	tl := &timeline{minLat: -1}
	var tEnd time.Time
	err := history.Each(path, func(op *history.Op) error {
		tl.total++
		if op.Outcome != history.OK {
			tl.nonOK++
		} else {
			tl.okTotal++
		}
		if tl.t0.IsZero() || op.Invoke.Before(tl.t0) {
			tl.t0 = op.Invoke
		}
		end := op.Complete
		if end.Before(op.Invoke) {
			end = op.Invoke
		}
		if end.After(tEnd) {
			tEnd = end
		}
		lat := op.Latency()
		if tl.minLat < 0 || lat < tl.minLat {
			tl.minLat = lat
		}
		if lat > tl.maxLat {
			tl.maxLat = lat
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if tl.total == 0 {
		return tl, nil
	}
	tl.span = tEnd.Sub(tl.t0)
	tl.bucket = bucketWidth(tl.span)
	tl.buckets = make([]history.Counts, int(tl.span/tl.bucket)+1)

	okBudget := max(maxPoints-tl.nonOK, maxPoints/5)
	nonBudget := 4 * maxPoints
	var okSeen, nonSeen int
	byID := map[uint64]point{}
	err = history.Each(path, func(op *history.Op) error {
		at := op.Invoke.Sub(tl.t0)
		b := &tl.buckets[min(int(at/tl.bucket), len(tl.buckets)-1)]
		b.Add(op.Outcome)
		p := point{id: op.ID, op: op.Op, at: at, lat: max(op.Latency(), 0), outcome: op.Outcome, status: op.Status, err: op.Error, named: named[op.ID]}
		keep := len(p.named) > 0
		if op.Outcome == history.OK {
			keep = keep || evenPick(okSeen, tl.okTotal, okBudget)
			okSeen++
		} else {
			keep = keep || evenPick(nonSeen, tl.nonOK, nonBudget)
			nonSeen++
		}
		if keep {
			tl.points = append(tl.points, p)
			if op.Outcome == history.OK {
				tl.okShown++
			} else {
				tl.nonShown++
			}
		}
		if len(p.named) > 0 {
			if _, dup := byID[op.ID]; !dup {
				byID[op.ID] = p
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id := range named {
		if p, ok := byID[id]; ok {
			tl.named = append(tl.named, p)
		} else {
			tl.missing = append(tl.missing, id)
		}
	}
	sort.Slice(tl.named, func(i, j int) bool { return tl.named[i].id < tl.named[j].id })
	sort.Slice(tl.missing, func(i, j int) bool { return tl.missing[i] < tl.missing[j] })
	return tl, nil
}

// axisSpan is the time axis of both charts: whole buckets, so that the two
// charts line up.
func (tl *timeline) axisSpan() time.Duration { return time.Duration(len(tl.buckets)) * tl.bucket }

// evenPick reports whether item k of n is one of budget items spread evenly
// over the n: exactly min(n, budget) items are picked.
func evenPick(k, n, budget int) bool {
	if n <= budget {
		return true
	}
	return (k+1)*budget/n > k*budget/n
}

// bucketWidth picks the outcome chart's bar width: one second, or the
// smallest longer nice width giving at most 300 bars; for runs shorter than
// 10s, the smallest of 100, 200, 250 or 500ms giving at most 50 bars. The
// chart shows rates per second whatever the width.
func bucketWidth(span time.Duration) time.Duration {
	if span < 10*time.Second {
		for _, w := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond} {
			if span/w <= 50 {
				return w
			}
		}
		return 500 * time.Millisecond
	}
	for _, w := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second,
		30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute} {
		if span/w <= 300 {
			return w
		}
	}
	return time.Hour
}

// ---- geometry ----

// svgChart is one chart, every number already formatted; html/template
// escapes it into the page.
type svgChart struct {
	W, H     int
	Label    string // aria-label
	PX, PY   string // plot area
	PW, PH   string
	PXEnd    string // PX + PW
	YTickX   string // where y tick labels end
	XTickY   string // baseline of x tick labels
	XLabelX  string
	XLabelY  string
	XTicks   []svgTick
	YTicks   []svgTick
	XLabel   string
	YLabel   string
	YLabelX  string
	YLabelY  string
	Windows  []svgWindow
	OKPath   string
	Dots     []svgDot
	Marks    []svgDot
	Bars     []svgRect
	BaseLine string
}

type svgTick struct {
	Pos   string // x for an x tick, y for a y tick
	Label string
	Minor bool
}

type svgWindow struct {
	X, Y, W, H     string
	Class          string
	Label          string
	LabelX, LabelY string
	Title          string
}

type svgDot struct {
	// ID is the history op id of a mark (the ops named by a violation).
	ID      string
	X, Y, R string
	Class   string
	Title   string
	Label   string
}

type svgRect struct {
	X, Y, W, H string
	Class      string
	Title      string
}

const (
	chartW       = 1100
	marginLeft   = 72
	marginRight  = 20
	marginTop    = 40
	marginBottom = 44
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// frame sets the plot area and where the axis labels go.
func (c *svgChart) frame(px0, px1, py0, py1 float64) {
	c.PX, c.PY, c.PW, c.PH = f1(px0), f1(py0), f1(px1-px0), f1(py1-py0)
	c.PXEnd, c.YTickX, c.XTickY = f1(px1), f1(px0-6), f1(py1+16)
	c.XLabelX, c.XLabelY = f1((px0+px1)/2), f1(py1+36)
	c.YLabelX, c.YLabelY = "16", f1((py0+py1)/2)
}

// xScale maps a time since t0 to an x position.
type xScale struct {
	span   time.Duration
	x0, x1 float64
}

func (s xScale) at(t time.Duration) float64 {
	if s.span <= 0 {
		return s.x0
	}
	return s.x0 + (s.x1-s.x0)*float64(t)/float64(s.span)
}

func (s xScale) ticks() []svgTick {
	steps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour}
	step := steps[len(steps)-1]
	for _, st := range steps {
		if s.span/st <= 12 {
			step = st
			break
		}
	}
	var out []svgTick
	for t := time.Duration(0); t <= s.span; t += step {
		out = append(out, svgTick{Pos: f1(s.at(t)), Label: fmtOffset(t)})
	}
	return out
}

func fmtOffset(t time.Duration) string {
	if t < time.Minute {
		return strconv.FormatFloat(t.Seconds(), 'f', -1, 64) + "s"
	}
	return t.Round(time.Second).String()
}

// logScale maps a latency to a y position on a log10 axis spanning whole
// decades.
type logScale struct {
	lo, hi float64 // log10 of seconds
	y0, y1 float64 // y of lo, y of hi
}

func newLogScale(minLat, maxLat time.Duration, y0, y1 float64) logScale {
	lo := math.Floor(math.Log10(math.Max(minLat.Seconds(), 1e-6)))
	hi := math.Ceil(math.Log10(math.Max(maxLat.Seconds(), 1e-6)))
	if hi <= lo {
		hi = lo + 1
	}
	return logScale{lo: lo, hi: hi, y0: y0, y1: y1}
}

func (s logScale) at(d time.Duration) float64 {
	v := math.Log10(math.Max(d.Seconds(), math.Pow(10, s.lo)))
	return s.y0 + (s.y1-s.y0)*(v-s.lo)/(s.hi-s.lo)
}

func (s logScale) ticks() []svgTick {
	var out []svgTick
	decades := s.hi - s.lo
	for e := s.lo; e <= s.hi+1e-9; e++ {
		for _, m := range []float64{1, 2, 5} {
			if m != 1 && (decades > 3 || e >= s.hi) {
				continue
			}
			d := time.Duration(m * math.Pow(10, e) * float64(time.Second))
			out = append(out, svgTick{Pos: f1(s.at(d)), Label: shortDur(d), Minor: m != 1})
		}
	}
	return out
}

// shortDur renders an axis label: 100µs, 2ms, 1s, 10s.
func shortDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', -1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	}
}

// faultUnits name, per fault, the Toxiproxy attribute a chaos window's label
// shows and its unit.
var faultUnits = map[string]struct{ attr, unit string }{
	"latency":    {"latency", "ms"},
	"timeout":    {"timeout", "ms"},
	"bandwidth":  {"rate", "KB/s"},
	"slow_close": {"delay", "ms"},
	"limit_data": {"bytes", "B"},
}

// chaosWindows pairs the timeline's added and removed events per toxic into
// shaded windows. A toxic never removed lasts to the end of the chart.
func chaosWindows(r *Result, t0 time.Time, span time.Duration) []struct {
	from, to time.Duration
	label    string
	title    string
} {
	type win = struct {
		from, to time.Duration
		label    string
		title    string
	}
	var out []win
	open := map[string]int{}
	offset := func(i int) time.Duration {
		e := r.Chaos[i]
		if !e.At.IsZero() && !t0.IsZero() {
			return e.At.Sub(t0)
		}
		return e.Offset
	}
	for i, e := range r.Chaos {
		key := e.Link + "/" + e.Toxic
		switch e.Action {
		case "added":
			label := e.Fault
			if u, ok := faultUnits[e.Fault]; ok {
				if v, ok := e.Attributes[u.attr].(float64); ok && v != 0 {
					label += " " + strconv.FormatFloat(v, 'f', -1, 64) + u.unit
				}
			}
			label += " on " + e.Link
			if e.Toxicity > 0 && e.Toxicity < 1 {
				label += fmt.Sprintf(" (%.0f%%)", 100*e.Toxicity)
			}
			title := strings.TrimSpace(fmt.Sprintf("%s on link %s, %s toxicity=%.2f %s", e.Fault, e.Link, e.Stream, e.Toxicity, attrs(e.Attributes)))
			open[key] = len(out)
			out = append(out, win{from: offset(i), to: -1, label: label, title: title})
		case "removed":
			if j, ok := open[key]; ok {
				out[j].to = offset(i)
				delete(open, key)
			}
		}
	}
	for i := range out {
		if out[i].to < 0 || out[i].to > span {
			out[i].to = span
		}
		out[i].from = max(out[i].from, 0)
		if out[i].to < out[i].from {
			out[i].to = out[i].from
		}
	}
	return out
}

func windowShapes(r *Result, tl *timeline, xs xScale, top, height float64) []svgWindow {
	var out []svgWindow
	for i, w := range chaosWindows(r, tl.t0, tl.span) {
		x0, x1 := xs.at(w.from), xs.at(w.to)
		out = append(out, svgWindow{
			X: f1(x0), Y: f1(top), W: f1(math.Max(x1-x0, 1)), H: f1(height),
			Class: fmt.Sprintf("win w%d", i%4), Label: w.label, Title: w.title + fmt.Sprintf(", from +%s to +%s", fmtOffset(w.from.Round(time.Millisecond)), fmtOffset(w.to.Round(time.Millisecond))),
			LabelX: f1(x0 + 3), LabelY: f1(top - 6 - 13*float64(i%2)),
		})
	}
	return out
}

// latencyChart is the scatter: one dot per sampled op at its invoke time,
// y its latency (log scale), coloured by outcome, chaos windows shaded, the
// ops named by evidence ringed.
func latencyChart(r *Result, tl *timeline) *svgChart {
	const h = 400
	c := &svgChart{W: chartW, H: h, Label: "latency of each operation over time, by outcome",
		XLabel: "time since the first request", YLabel: "latency (log scale)"}
	px0, px1 := float64(marginLeft), float64(chartW-marginRight)
	py0, py1 := float64(marginTop), float64(h-marginBottom)
	c.frame(px0, px1, py0, py1)
	xs := xScale{span: tl.axisSpan(), x0: px0, x1: px1}
	ys := newLogScale(tl.minLat, tl.maxLat, py1, py0)
	c.XTicks, c.YTicks = xs.ticks(), ys.ticks()
	c.Windows = windowShapes(r, tl, xs, py0, py1-py0)

	var ok strings.Builder
	for _, p := range tl.points {
		x, y := f1(xs.at(p.at)), f1(ys.at(p.lat))
		if p.outcome == history.OK {
			ok.WriteString("M" + x + " " + y + "h0")
			continue
		}
		c.Dots = append(c.Dots, svgDot{X: x, Y: y, R: "2.6", Class: "dot " + string(p.outcome), Title: opTitle(p)})
	}
	c.OKPath = ok.String()
	for _, p := range tl.named {
		c.Marks = append(c.Marks, svgDot{ID: "#" + strconv.FormatUint(p.id, 10), X: f1(xs.at(p.at)), Y: f1(ys.at(p.lat)), R: "7", Class: "mark",
			Title: opTitle(p) + " — named by " + strings.Join(p.named, "; "), Label: "#" + strconv.FormatUint(p.id, 10)})
	}
	return c
}

// ratesChart is the stacked bars: ok, fail and unknown ops per second in
// each bucket, chaos windows shaded.
func ratesChart(r *Result, tl *timeline) *svgChart {
	const h = 300
	c := &svgChart{W: chartW, H: h, Label: "operations per second by outcome over time",
		XLabel: "time since the first request", YLabel: "operations / s"}
	px0, px1 := float64(marginLeft), float64(chartW-marginRight)
	py0, py1 := float64(marginTop), float64(h-marginBottom)
	c.frame(px0, px1, py0, py1)
	c.BaseLine = f1(py1)
	xs := xScale{span: tl.axisSpan(), x0: px0, x1: px1}
	c.XTicks = xs.ticks()
	c.Windows = windowShapes(r, tl, xs, py0, py1-py0)

	per := tl.bucket.Seconds()
	peak := 0.0
	for _, b := range tl.buckets {
		peak = math.Max(peak, float64(b.Total())/per)
	}
	top := niceCeil(peak)
	yAt := func(v float64) float64 { return py1 - (py1-py0)*v/top }
	step := top / 5
	for v := 0.0; v <= top+1e-9; v += step {
		c.YTicks = append(c.YTicks, svgTick{Pos: f1(yAt(v)), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	for i, b := range tl.buckets {
		x0 := xs.at(time.Duration(i) * tl.bucket)
		x1 := xs.at(time.Duration(i+1) * tl.bucket)
		w := x1 - x0
		if w > 3 {
			w -= 1
		}
		base := 0.0
		from := fmtOffset(time.Duration(i) * tl.bucket)
		for _, part := range []struct {
			n     int
			class string
		}{{b.OK, "ok"}, {b.Fail, "fail"}, {b.Unknown, "unknown"}} {
			if part.n == 0 {
				continue
			}
			v := float64(part.n) / per
			c.Bars = append(c.Bars, svgRect{X: f1(x0), Y: f1(yAt(base + v)), W: f1(w), H: f1(yAt(base) - yAt(base+v)),
				Class: "bar " + part.class, Title: fmt.Sprintf("+%s: %d %s (%s/s)", from, part.n, part.class, strconv.FormatFloat(v, 'f', -1, 64))})
			base += v
		}
	}
	return c
}

// niceCeil rounds v up to 1, 2 or 5 × a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func opTitle(p point) string {
	s := fmt.Sprintf("op #%d %s at +%s: %s, %s", p.id, p.op, fmtOffset(p.at.Round(time.Millisecond)), p.outcome, dur(p.lat))
	if p.status != 0 {
		s += fmt.Sprintf(", status %d", p.status)
	}
	if p.err != "" {
		s += ", " + p.err
	}
	return s
}

// isNotExist reports a missing history file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
