package bench

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
)

// EnvBench turns the long tests on.
const EnvBench = "COLLIDE_BENCH"

// requireBench skips t unless COLLIDE_BENCH=1.
func requireBench(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvBench) != "1" {
		t.Skipf("long benchmark: set %s=1 (or run make bench)", EnvBench)
	}
}

// missed reports a benchmark target that was not met: an error under
// COLLIDE_BENCH_STRICT=1 (what make bench and bench/run.sh set unless told
// COLLIDE_BENCH_STRICT=0), else a log line.
func missed(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("COLLIDE_BENCH_STRICT") == "1" {
		t.Errorf("target missed: "+format, args...)
		return
	}
	t.Logf("target missed (not failing: COLLIDE_BENCH_STRICT is not 1): "+format, args...)
}

// outDir is the results folder (COLLIDE_BENCH_OUT, default bench/out).
func outDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("COLLIDE_BENCH_OUT")
	if dir == "" {
		dir = "out"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// tools are the binaries a comparison runs.
type tools struct {
	root       string
	collide    string
	vegeta     string
	vegetaNote string
	wrk        string // "" when wrk is not installed
}

var (
	toolsOnce sync.Once
	toolsVal  tools
	toolsErr  error
)

// binaries returns collide and vegeta (COLLIDE_BENCH_COLLIDE and
// COLLIDE_BENCH_VEGETA, else built into the results folder) and wrk (from
// PATH, if installed).
func binaries(t testing.TB) tools {
	t.Helper()
	toolsOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			toolsErr = err
			return
		}
		bin := filepath.Join(outDir(t), "bin")
		tl := tools{root: root, collide: os.Getenv("COLLIDE_BENCH_COLLIDE"), vegeta: os.Getenv("COLLIDE_BENCH_VEGETA")}
		if tl.collide == "" {
			tl.collide = filepath.Join(bin, "collide")
			if toolsErr = BuildCollide(root, tl.collide); toolsErr != nil {
				return
			}
		}
		if tl.vegeta == "" {
			tl.vegeta = filepath.Join(bin, "vegeta")
			if tl.vegetaNote, toolsErr = BuildVegeta(root, tl.vegeta); toolsErr != nil {
				return
			}
		} else {
			tl.vegetaNote = envString("COLLIDE_BENCH_VEGETA_NOTE", "prebuilt "+tl.vegeta)
		}
		tl.wrk, _ = exec.LookPath("wrk")
		toolsVal = tl
	})
	if toolsErr != nil {
		t.Fatal(toolsErr)
	}
	return toolsVal
}

// writeJSON writes v to the results folder as name.
func writeJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outDir(t), name), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeText writes s to the results folder as name.
func writeText(t testing.TB, name, s string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(outDir(t), name), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// machine describes where the figures come from.
type machine struct {
	CPUs    int    `json:"cpus"`
	Go      string `json:"go"`
	LoadAvg string `json:"loadavg"`
	Kernel  string `json:"kernel,omitempty"`
	Model   string `json:"cpu_model,omitempty"`
}

func thisMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadAvg: LoadAvg()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = string(trimNL(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range splitLines(b) {
			if k, v, ok := cutColon(line); ok && k == "model name" {
				m.Model = v
				break
			}
		}
	}
	return m
}

// heapPeak samples the live heap (runtime/metrics, no stop-the-world) every
// 10 ms until stop is called, which returns the largest value in MB.
func heapPeak() (stop func() float64) {
	const name = "/memory/classes/heap/objects:bytes"
	s := []metrics.Sample{{Name: name}}
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak {
				peak = v
			}
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		return float64(<-result) / (1 << 20)
	}
}
