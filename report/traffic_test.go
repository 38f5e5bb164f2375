package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/collide-dev/collide/chaos"
)

// TestChaosLinksRendered: each chaos link's traffic is one line of the
// terminal table, the Markdown report and the HTML report, next to the
// chaos timeline; an unmeasured link says so and why, with no counts; in
// result.json measured counts are numbers (zero included) and unmeasured
// ones are absent.
func TestChaosLinksRendered(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	r := baseResult("counter", "", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), 7, "racy")
	r.Finished = r.Started.Add(time.Second)
	r.ChaosLinks = []chaos.LinkTraffic{
		{Link: "target", Listen: "127.0.0.1:40001", Upstream: "127.0.0.1:8080", BytesUp: n(297), BytesDown: n(150414), Connections: n(3)},
		{Link: "database", Listen: "127.0.0.1:40002", Upstream: "127.0.0.1:5432", BytesUp: n(0), BytesDown: n(0), Connections: n(0)},
		{Link: "cache", Listen: "127.0.0.1:40003", Upstream: "127.0.0.1:6379", Unmeasured: "toxiproxy at http://x has no collide_count toxic"},
	}
	want := []string{
		"link target 127.0.0.1:40001 → 127.0.0.1:8080: 297 bytes up, 150414 bytes down, 3 connections",
		"link database 127.0.0.1:40002 → 127.0.0.1:5432: 0 bytes up, 0 bytes down, 0 connections",
		"link cache 127.0.0.1:40003 → 127.0.0.1:6379: traffic not measured: toxiproxy at http://x has no collide_count toxic",
	}
	var text, md bytes.Buffer
	if err := Table(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	page := renderHTML(t, r, HTMLOptions{})
	for _, w := range want {
		if !strings.Contains(text.String(), "\n"+w+"\n") {
			t.Errorf("terminal table lacks line %q:\n%s", w, text.String())
		}
		if !strings.Contains(md.String(), "- "+mdText(w)+"\n") {
			t.Errorf("markdown lacks item %q:\n%s", w, md.String())
		}
		if !strings.Contains(page, `<p class="mono">`+w+"</p>") {
			t.Errorf("HTML lacks line %q", w)
		}
	}

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		ChaosLinks []map[string]any `json:"chaos_links"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.ChaosLinks) != 3 {
		t.Fatalf("chaos_links = %v", back.ChaosLinks)
	}
	if db := back.ChaosLinks[1]; db["bytes_up"] != 0.0 || db["bytes_down"] != 0.0 || db["connections"] != 0.0 {
		t.Errorf("measured zeros = %v, want bytes_up, bytes_down, connections 0", db)
	}
	for _, k := range []string{"bytes_up", "bytes_down", "connections"} {
		if _, ok := back.ChaosLinks[2][k]; ok {
			t.Errorf("unmeasured link has %s: %v", k, back.ChaosLinks[2])
		}
	}
	if back.ChaosLinks[2]["unmeasured"] == nil || back.ChaosLinks[0]["unmeasured"] != nil {
		t.Errorf("unmeasured fields: %v", back.ChaosLinks)
	}
}
