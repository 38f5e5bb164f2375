package report

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
)

func renderHTML(t *testing.T, r *Result, o HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, r, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestHTMLSelfContained: no script, no external resource, the charts are
// inline SVG, and the ops the evidence names are ringed.
func TestHTMLSelfContained(t *testing.T) {
	run := loadFixture(t, "2026-11-21/counter")
	page := renderHTML(t, run.Result, HTMLOptions{HistoryPath: run.HistoryPath()})
	for _, bad := range []string{"<script", "<link", "@import", "src=", "url(", "<iframe", "<img"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if m := regexp.MustCompile(`(?:href|src)="https?:`).FindString(page); m != "" {
		t.Errorf("page references %s", m)
	}
	for _, want := range []string{`<svg id="latency-chart"`, `<svg id="rates-chart"`, "reset_peer on target (20%)",
		"latency 150ms on target", ">#212</text>", ">#810</text>", "Operations named by a violation", "named by a violation</span>"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<circle class="mark"`); n != 6 {
		t.Errorf("%d ringed ops, want 6 (#212 #213 #587 #588 #809 #810)", n)
	}
}

// TestHTMLMarksTheCounterexample: the latency chart rings exactly the ops
// of the failed invariants' structured counterexamples, in red with a
// legend, and lists them with the explanation; op ids that only the text
// mentions are not marked.
func TestHTMLMarksTheCounterexample(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	var ops []history.Op
	for i := range 20 {
		at := start.Add(time.Duration(i) * 10 * time.Millisecond)
		ops = append(ops, history.Op{ID: uint64(i + 1), Op: "buy", Key: "7", Invoke: at, Complete: at.Add(5 * time.Millisecond), Outcome: history.OK, Status: 200})
	}
	writeHistory(t, hist, ops)
	ref := func(id uint64, role string) invariants.OpRef {
		o := ops[id-1]
		return invariants.OpRef{ID: o.ID, Op: o.Op, Key: o.Key, Invoke: o.Invoke, Complete: o.Complete, Outcome: o.Outcome, Status: o.Status, Role: role}
	}
	r := &Result{Schema: SchemaVersion, Started: start, Finished: start.Add(time.Second), Verdict: Fail,
		Invariants: []invariants.Result{
			{Name: "stock never below zero", Check: "bounded_debits", Verdict: invariants.Fail, Actual: "op #5 is only text here",
				Explanation: "Let purchases #3 and #12 of product 7 be acknowledged; Then stock ended at -1.",
				Ops:         []invariants.OpRef{ref(3, "acknowledged"), ref(12, "acknowledged")}, MoreOps: 4,
				Evidence: []string{"ops #6, #7 only in text"}, Anomaly: "oversell / overdraft (TOCTOU)", Fix: "Use atomic database operations: …"},
			{Name: "passing", Check: "counter", Verdict: invariants.Pass, Ops: []invariants.OpRef{ref(15, "ignored")}},
		},
	}
	page := renderHTML(t, r, HTMLOptions{HistoryPath: hist})
	marks := regexp.MustCompile(`<circle class="mark" data-op="(#\d+)"`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, m := range marks {
		got = append(got, m[1])
	}
	if strings.Join(got, " ") != "#3 #12" {
		t.Errorf("marked ops %v, want #3 #12 (the structured ops of the failed invariant only)", got)
	}
	for _, want := range []string{`<i class="mark"></i>named by a violation`, `stroke: #c62828`,
		`<p class="why">Let purchases #3 and #12 of product 7 be acknowledged; Then stock ended at -1.</p>`,
		`<li data-op="#3"><code>#3 buy key 7 ok 200 00:00:00.020000→00:00:00.025000</code> <em>acknowledged</em></li>`, "… 4 more",
		`<td>stock never below zero (acknowledged)</td></tr>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if t.Failed() {
		i := strings.Index(page, `<p class="why">`)
		t.Logf("%s", page[max(i, 0):min(len(page), max(i, 0)+800)])
	}
}

// TestHTMLEscapes: text from a profile, a database or a response cannot
// inject markup.
func TestHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.jsonl")
	writeHistory(t, hist, []history.Op{{ID: 1, Op: evil, Invoke: start, Complete: start.Add(time.Millisecond), Outcome: history.Unknown, Error: evil}})
	r := &Result{Schema: SchemaVersion, Started: start, Finished: start.Add(time.Second), Verdict: Fail, Target: evil, Error: evil,
		Profile:    ProfileInfo{Name: evil, About: evil, Overrides: []string{evil}},
		Invariants: []invariants.Result{{Name: evil, Verdict: invariants.Fail, Expected: evil, Actual: evil + " op #1", Evidence: []string{evil}, Fix: evil, Anomaly: evil}},
	}
	page := renderHTML(t, r, HTMLOptions{HistoryPath: hist})
	if strings.Contains(page, "<script") || strings.Contains(page, "<img") {
		t.Fatalf("markup got through:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Fatalf("escaped text missing")
	}
}

func writeHistory(t *testing.T, path string, ops []history.Op) {
	t.Helper()
	var b bytes.Buffer
	for _, op := range ops {
		j, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(j, '\n'))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bigHistory writes n ops over 10s, every 97th unknown and every 89th fail.
func bigHistory(t testing.TB, path string, n int) {
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		op := history.Op{ID: uint64(i + 1), Op: "incr", Invoke: start.Add(time.Duration(i) * 10 * time.Second / time.Duration(n)), Outcome: history.OK, Status: 200, Sent: true}
		op.Complete = op.Invoke.Add(time.Duration(1+i%7) * time.Millisecond)
		switch {
		case i%97 == 0:
			op.Outcome, op.Status, op.Error = history.Unknown, 0, "connection reset by peer"
		case i%89 == 0:
			op.Outcome, op.Status = history.Fail, 409
		}
		if err := w.Append(&op); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHTMLDownsamples: a large history draws at most MaxPoints ok ops and
// every op that is not ok, and the outcome bars still count every op.
func TestHTMLDownsamples(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n, max    int
		wantNonOK int // multiples of 97 or 89 below n
	}{
		{"small history drawn whole", 1000, 5000, 11 + 12 - 1},
		{"large history sampled", 20000, 1000, 207 + 225 - 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.jsonl")
			bigHistory(t, path, tc.n)
			tl, err := readTimeline(path, map[uint64][]string{2: {"x"}}, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			if tl.total != tc.n || tl.nonShown != tl.nonOK || tl.nonOK != tc.wantNonOK {
				t.Fatalf("total %d, non-ok %d shown of %d; want %d total, %d non-ok all shown", tl.total, tl.nonShown, tl.nonOK, tc.n, tc.wantNonOK)
			}
			if tl.okShown > max(tc.max-tl.nonOK, tc.max/5)+1 {
				t.Fatalf("%d ok drawn, budget %d", tl.okShown, tc.max)
			}
			if tc.n <= tc.max && tl.okShown != tl.okTotal {
				t.Fatalf("%d of %d ok drawn, want all", tl.okShown, tl.okTotal)
			}
			if len(tl.named) != 1 || tl.named[0].id != 2 {
				t.Fatalf("named op #2 not kept: %+v", tl.named)
			}
			sum := 0
			for _, b := range tl.buckets {
				sum += b.Total()
			}
			if sum != tc.n {
				t.Fatalf("bars count %d ops, want %d", sum, tc.n)
			}
		})
	}
}

// TestHTMLWithoutHistory: a missing history gives a page that says so; an
// unreadable one is an error.
func TestHTMLWithoutHistory(t *testing.T) {
	r := loadFixture(t, "2026-11-20/counter").Result
	page := renderHTML(t, r, HTMLOptions{HistoryPath: filepath.Join(t.TempDir(), "nope.jsonl")})
	if !strings.Contains(page, "does not exist, so there are no charts") || strings.Contains(page, "<svg") {
		t.Fatal("missing history not reported")
	}
	bad := filepath.Join(t.TempDir(), "history.jsonl")
	if err := os.WriteFile(bad, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := HTML(&bytes.Buffer{}, r, HTMLOptions{HistoryPath: bad}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v, want the bad line named", err)
	}
}

// TestHTMLInChromium opens the failing fixture's page in headless Chromium:
// the screenshot must be a real picture (a PNG of some size, many colours,
// the verdict's red and the ok bars' green in it) and the DOM must hold both
// charts.
func TestHTMLInChromium(t *testing.T) {
	chromium := requireTool(t, "chromium", "chromium")
	run := loadFixture(t, "2026-11-21/counter")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(renderHTML(t, run.Result, HTMLOptions{HistoryPath: run.HistoryPath()})), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	chrome := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)
		cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+page)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
		}
		return stdout.Bytes()
	}
	chrome("--screenshot="+shot, "--window-size=1200,1600")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 1600 || st.Size() < 50<<10 {
		t.Fatalf("screenshot %v, %d bytes: want 1200×1600 and at least 50 KiB", b, st.Size())
	}
	colours, red, green := colourStats(img)
	if colours < 50 || red == 0 || green == 0 {
		t.Fatalf("screenshot has %d colours, %d red banner pixels, %d green bar pixels: it does not look like the report", colours, red, green)
	}
	t.Logf("screenshot %s: %d bytes, %d colours", shot, st.Size(), colours)

	dom := string(chrome("--dump-dom"))
	for _, want := range []string{`<svg id="latency-chart"`, `<svg id="rates-chart"`, "<circle", "<rect"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	if keep := os.Getenv("COLLIDE_KEEP_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(keep, b, 0o644)
	}
}

// colourStats counts distinct colours (sampled) and the pixels of the fail
// banner's border (#c62828) and of the ok bars (#2e7d32).
func colourStats(img image.Image) (colours, red, green int) {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	near := func(r, g, bl uint32, R, G, B uint32) bool {
		d := func(a, b uint32) uint32 {
			if a > b {
				return a - b
			}
			return b - a
		}
		return d(r, R) < 12 && d(g, G) < 12 && d(bl, B) < 12
	}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[[3]uint32{r, g, bl}] = true
			if near(r, g, bl, 0xc6, 0x28, 0x28) {
				red++
			}
			if near(r, g, bl, 0x2e, 0x7d, 0x32) {
				green++
			}
		}
	}
	return len(seen), red, green
}

// BenchmarkHTML10k renders a 10,000-op run.
func BenchmarkHTML10k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "history.jsonl")
	bigHistory(b, path, 10000)
	r := &Result{Schema: SchemaVersion, Verdict: Pass}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := HTML(&buf, r, HTMLOptions{HistoryPath: path}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}
