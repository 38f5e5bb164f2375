package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/collide-dev/collide/invariants"
)

//go:embed html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report").Parse(htmlTemplateText))

// HTMLOptions configure the HTML report.
type HTMLOptions struct {
	// HistoryPath is the run's history.jsonl, for the charts. Empty, or a
	// file that does not exist, gives a page without charts that says why.
	HistoryPath string
	// MaxPoints bounds the ok operations drawn on the latency chart (default
	// DefaultMaxPoints), evenly spread over the run. Operations that are not
	// ok are all drawn, up to 4×MaxPoints; operations named by evidence are
	// always drawn.
	MaxPoints int
}

// HTML writes r as one self-contained HTML page — no scripts, no external
// fonts, styles or images — with the verdict, the invariants and their
// evidence, SVG charts drawn from the history (latency of every sampled
// operation over time with chaos windows shaded, outcome rates over time,
// the operations that evidence names ringed), the attack table, the chaos
// timeline and the run's environment. Every text from the run is escaped by
// html/template. A history that exists but cannot be read is an error.
func HTML(w io.Writer, r *Result, o HTMLOptions) error {
	page, err := buildPage(r, o)
	if err != nil {
		return err
	}
	if err := htmlTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

type htmlPage struct {
	R            *Result
	Verdict      string
	VerdictClass string
	VerdictLine  string
	Replay       string
	Started      string
	Took         string
	Database     string
	UnknownShare string
	MaxUnknown   string
	Invariants   []htmlInvariant
	Attack       []htmlAttack
	Chaos        []htmlChaos
	Traffic      []string // one line per chaos link (trafficLine)
	Deps         []htmlKV

	HistoryNote  string
	SampleNote   string
	Latency      *svgChart
	Rates        *svgChart
	BucketWidth  string
	Named        []htmlNamed
	NamedMissing string
}

type htmlInvariant struct {
	Name, Verdict, Class, Check, Expected, Actual, Anomaly, Error, Fix, Took string
	Explanation                                                              string
	Ops                                                                      []htmlOp
	MoreOps                                                                  int
	Evidence                                                                 []string
}

// htmlOp is one op of a counterexample, as the invariants table lists it.
type htmlOp struct {
	ID, Op, Key, Invoke, Complete, Outcome, Status, Role string
}

type htmlAttack struct {
	Op, Requests, Rate, Through, OK, Fail, Unknown, P50, P90, P99, Max, Codes, Errors string
}

type htmlChaos struct {
	At, Link, Fault, Action, Details string
	Failed                           bool
}

type htmlKV struct{ K, V string }

type htmlNamed struct {
	ID, Op, At, Latency, Outcome, Status, Error, By string
}

func buildPage(r *Result, o HTMLOptions) (*htmlPage, error) {
	p := &htmlPage{
		R:            r,
		Verdict:      strings.ToUpper(string(r.Verdict)),
		VerdictClass: verdictClass(string(r.Verdict)),
		VerdictLine:  VerdictLine(r),
		Replay:       ReplayCommand(r),
		Started:      r.Started.UTC().Format("2006-01-02 15:04:05Z"),
		Took:         r.Finished.Sub(r.Started).Round(time.Millisecond).String(),
		Database:     strings.TrimSpace(r.Database),
		UnknownShare: fmt.Sprintf("%.1f%%", 100*r.UnknownFraction),
		MaxUnknown:   fmt.Sprintf("%.0f%%", 100*r.MaxUnknown),
	}
	for _, inv := range r.Invariants {
		p.Invariants = append(p.Invariants, htmlInvariant{
			Name: inv.Name, Verdict: strings.ToUpper(string(inv.Verdict)), Class: verdictClass(string(inv.Verdict)),
			Check: inv.Check, Expected: inv.Expected, Actual: inv.Actual, Anomaly: inv.Anomaly, Error: inv.Error,
			Fix: inv.Fix, Took: dur(inv.Took), Evidence: inv.Evidence,
			Explanation: inv.Explanation, Ops: htmlOps(inv.Ops), MoreOps: inv.MoreOps,
		})
	}
	for _, m := range r.Attack {
		if m == nil {
			continue
		}
		p.Attack = append(p.Attack, htmlAttack{
			Op: m.Op, Requests: fmt.Sprint(m.Requests), Rate: fmt.Sprintf("%.1f", m.Rate), Through: fmt.Sprintf("%.1f", m.Through),
			OK: fmt.Sprint(m.OK), Fail: fmt.Sprint(m.Fail), Unknown: fmt.Sprint(m.Unknown),
			P50: dur(m.P50), P90: dur(m.P90), P99: dur(m.P99), Max: dur(m.Max),
			Codes: statusCodes(m.StatusCodes), Errors: strings.Join(m.Errors, "\n"),
		})
	}
	for _, e := range r.Chaos {
		details := strings.TrimSpace(fmt.Sprintf("%s toxicity=%.2f %s", e.Stream, e.Toxicity, attrs(e.Attributes)))
		if e.Error != "" {
			details = e.Error
		}
		p.Chaos = append(p.Chaos, htmlChaos{At: "+" + dur(e.Offset), Link: e.Link, Fault: e.Fault, Action: e.Action, Details: details, Failed: e.Action == "failed"})
	}
	for _, lt := range r.ChaosLinks {
		p.Traffic = append(p.Traffic, trafficLine(lt))
	}
	for k, v := range r.Dependencies {
		p.Deps = append(p.Deps, htmlKV{k, v})
	}
	sort.Slice(p.Deps, func(i, j int) bool { return p.Deps[i].K < p.Deps[j].K })

	switch {
	case o.HistoryPath == "":
		p.HistoryNote = "No history file was given, so there are no charts."
	default:
		named := namedOps(r)
		tl, err := readTimeline(o.HistoryPath, named, o.MaxPoints)
		switch {
		case err != nil && isNotExist(err):
			p.HistoryNote = "The history file " + o.HistoryPath + " does not exist, so there are no charts."
		case err != nil:
			return nil, fmt.Errorf("report: html: %w", err)
		case tl.total == 0:
			p.HistoryNote = "The history is empty: no request was sent."
		default:
			p.Latency = latencyChart(r, tl)
			p.Rates = ratesChart(r, tl)
			p.BucketWidth = shortDur(tl.bucket)
			p.SampleNote = fmt.Sprintf("%d operations; drawn: %d of %d ok, %d of %d not ok.", tl.total, tl.okShown, tl.okTotal, tl.nonShown, tl.nonOK)
			for _, n := range tl.named {
				st := ""
				if n.status != 0 {
					st = fmt.Sprint(n.status)
				}
				p.Named = append(p.Named, htmlNamed{ID: fmt.Sprintf("#%d", n.id), Op: n.op, At: "+" + fmtOffset(n.at.Round(time.Millisecond)),
					Latency: dur(n.lat), Outcome: string(n.outcome), Status: st, Error: n.err, By: strings.Join(n.named, "; ")})
			}
			if len(tl.missing) > 0 {
				ids := make([]string, len(tl.missing))
				for i, id := range tl.missing {
					ids[i] = fmt.Sprintf("#%d", id)
				}
				p.NamedMissing = "Named by evidence but not in the history: " + strings.Join(ids, ", ") + "."
			}
		}
	}
	return p, nil
}

func htmlOps(refs []invariants.OpRef) []htmlOp {
	out := make([]htmlOp, 0, len(refs))
	for _, o := range refs {
		st := ""
		if o.Status != 0 {
			st = fmt.Sprint(o.Status)
		}
		out = append(out, htmlOp{ID: fmt.Sprintf("#%d", o.ID), Op: o.Op, Key: o.Key,
			Invoke: o.Invoke.UTC().Format("15:04:05.000000"), Complete: o.Complete.UTC().Format("15:04:05.000000"),
			Outcome: string(o.Outcome), Status: st, Role: o.Role})
	}
	return out
}

func verdictClass(v string) string {
	switch v {
	case "pass", "fail", "unknown":
		return "v-" + v
	default:
		return "v-error"
	}
}
