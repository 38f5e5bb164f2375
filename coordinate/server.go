package coordinate

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Config's bounds.
const (
	DefaultMaxUploadBytes = 512 << 20 // one shard's run folder, as a tar stream
	DefaultMaxFiles       = 10000     // entries in one upload
	MaxShards             = 10000     // shards of one run
	maxNameBytes          = 256       // one path in an upload
)

// Config configures a Server.
type Config struct {
	// Shards is the number of shards of the run, 1 ≤ N ≤ MaxShards; shard
	// indexes are 0 … N−1.
	Shards int
	// StartDelay is how long after the first GET /start the run starts:
	// long enough for every shard's pod to be scheduled and to ask.
	StartDelay time.Duration
	// ResultsDir receives each shard's upload as ResultsDir/shard-i/. Empty:
	// uploads are refused (404).
	ResultsDir string
	// RunGroup names the run all shards belong to; empty: 16 random hex
	// digits.
	RunGroup string
	// Now is the server's clock; nil: time.Now. Tests inject an offset clock.
	Now func() time.Time
	// MaxUploadBytes bounds one upload's body in bytes; 0: DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// MaxFiles bounds the entries of one upload; 0: DefaultMaxFiles.
	MaxFiles int
}

// StartReply is the body of GET /start.
type StartReply struct {
	StartAt  time.Time `json:"start_at"` // RFC 3339 with nanoseconds, the server's clock
	Shards   int       `json:"shards"`
	RunGroup string    `json:"run_group"`
}

// ClockReply is the body of GET /clock.
type ClockReply struct {
	ReceivedAt time.Time `json:"received_at"` // server clock when the request arrived (t1)
	SentAt     time.Time `json:"sent_at"`     // server clock just before the reply was written (t2)
	// ResolutionNanos is the smallest step the server's clock was seen to
	// take, in nanoseconds: each timestamp may be off by this much.
	ResolutionNanos int64 `json:"resolution_ns"`
}

// Status is the body of GET /status.
type Status struct {
	Shards   int        `json:"shards"`
	RunGroup string     `json:"run_group"`
	StartAt  *time.Time `json:"start_at,omitempty"` // nil until a shard asked
	Started  []int      `json:"started"`            // shard indexes that asked for the start, ascending
	Uploaded []int      `json:"uploaded"`           // shard indexes whose results arrived, ascending
	Done     bool       `json:"done"`               // every shard uploaded
}

// Server is the coordinator of one sharded run. Its methods are safe for
// concurrent use.
type Server struct {
	cfg        Config
	resolution time.Duration
	done       chan struct{}

	mu       sync.Mutex
	startAt  time.Time
	started  map[int]bool
	uploaded map[int]bool
	uploads  map[int]*sync.Mutex // one upload per shard at a time
}

// NewServer checks cfg and returns its Server.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Shards < 1 || cfg.Shards > MaxShards {
		return nil, fmt.Errorf("coordinate: shards must be 1 … %d, got %d", MaxShards, cfg.Shards)
	}
	if cfg.StartDelay < 0 {
		return nil, fmt.Errorf("coordinate: start delay must not be negative, got %s", cfg.StartDelay)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.RunGroup == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.RunGroup = hex.EncodeToString(b[:])
	}
	if cfg.ResultsDir != "" {
		if err := os.MkdirAll(cfg.ResultsDir, 0o755); err != nil {
			return nil, fmt.Errorf("coordinate: results folder: %w", err)
		}
	}
	s := &Server{
		cfg: cfg, resolution: resolution(cfg.Now), done: make(chan struct{}),
		started: map[int]bool{}, uploaded: map[int]bool{}, uploads: map[int]*sync.Mutex{},
	}
	return s, nil
}

// resolution is the smallest non-zero step between two readings of now
// seen in a bounded number of reads; 1 ms when it never moved.
func resolution(now func() time.Time) time.Duration {
	best := time.Duration(0)
	prev := now()
	for range 10000 {
		t := now()
		if d := t.Sub(prev); d > 0 && (best == 0 || d < best) {
			best = d
		}
		prev = t
	}
	if best == 0 {
		return time.Millisecond
	}
	return best
}

// Done is closed when every shard has uploaded its results.
func (s *Server) Done() <-chan struct{} { return s.done }

// Status is what GET /status answers.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Shards: s.cfg.Shards, RunGroup: s.cfg.RunGroup, Started: keys(s.started), Uploaded: keys(s.uploaded)}
	if !s.startAt.IsZero() {
		t := s.startAt
		st.StartAt = &t
	}
	st.Done = len(s.uploaded) == s.cfg.Shards
	return st
}

func keys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Handler serves the four endpoints; any other path is 404, any other
// method 405.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /clock", s.clock)
	mux.HandleFunc("GET /start", s.start)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.Status()) })
	mux.HandleFunc("PUT /results/{shard}", s.upload)
	return mux
}

// NewHTTPServer wraps Handler in an http.Server whose every phase is
// bounded in time and whose headers are bounded in size.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Minute, // an upload of MaxUploadBytes on a slow link
		WriteTimeout:      11 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *Server) clock(w http.ResponseWriter, _ *http.Request) {
	t1 := s.cfg.Now()
	reply := ClockReply{ReceivedAt: t1, ResolutionNanos: s.resolution.Nanoseconds()}
	reply.SentAt = s.cfg.Now()
	writeJSON(w, http.StatusOK, reply)
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	shard, err := s.shard(r.URL.Query().Get("shard"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	s.mu.Lock()
	if s.startAt.IsZero() {
		s.startAt = s.cfg.Now().Add(s.cfg.StartDelay)
	}
	s.started[shard] = true
	reply := StartReply{StartAt: s.startAt, Shards: s.cfg.Shards, RunGroup: s.cfg.RunGroup}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, reply)
}

// shard parses a shard index in [0, Shards).
func (s *Server) shard(v string) (int, error) {
	if v == "" {
		return 0, errors.New("shard: missing, want an index 0 … N−1")
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 || i >= s.cfg.Shards {
		return 0, fmt.Errorf("shard %q: want an index 0 … %d", v, s.cfg.Shards-1)
	}
	return i, nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.ResultsDir == "" {
		httpError(w, http.StatusNotFound, errors.New("this coordinator takes no results (no -results folder)"))
		return
	}
	shard, err := s.shard(r.PathValue("shard"))
	if err != nil {
		httpError(w, http.StatusBadRequest, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-tar" {
		httpError(w, http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/x-tar", ct))
		return
	}
	if r.ContentLength > s.cfg.MaxUploadBytes {
		httpError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("upload of %d bytes: the limit is %d", r.ContentLength, s.cfg.MaxUploadBytes))
		return
	}
	s.mu.Lock()
	lock := s.uploads[shard]
	if lock == nil {
		lock = &sync.Mutex{}
		s.uploads[shard] = lock
	}
	s.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()

	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes)
	final := filepath.Join(s.cfg.ResultsDir, fmt.Sprintf("shard-%d", shard))
	tmp, err := os.MkdirTemp(s.cfg.ResultsDir, fmt.Sprintf(".shard-%d.partial-", shard))
	if err != nil {
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	defer os.RemoveAll(tmp)
	n, err := untar(body, tmp, s.cfg.MaxFiles)
	if err != nil {
		code := http.StatusBadRequest
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			code = http.StatusRequestEntityTooLarge
		}
		httpError(w, code, fmt.Errorf("shard %d upload: %w", shard, err))
		return
	}
	// A repeated upload (a retried pod) replaces the earlier one whole.
	if err := os.RemoveAll(final); err != nil {
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	if err := os.Rename(tmp, final); err != nil {
		httpError(w, http.StatusInternalServerError, err)
		return
	}
	s.mu.Lock()
	s.uploaded[shard] = true
	if len(s.uploaded) == s.cfg.Shards {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"shard": shard, "files": n})
}

// untar unpacks regular files and folders of r below dir, at most maxFiles
// entries; any other kind of entry, an absolute name or one that leaves dir
// is an error. It returns the number of files written.
func untar(r io.Reader, dir string, maxFiles int) (int, error) {
	tr := tar.NewReader(r)
	files := 0
	for entries := 0; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if entries == 0 {
				return 0, errors.New("empty tar stream")
			}
			return files, nil
		}
		if err != nil {
			return files, fmt.Errorf("reading tar: %w", err)
		}
		if entries >= maxFiles {
			return files, fmt.Errorf("more than %d entries", maxFiles)
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return files, err
		}
		if name == "." {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return files, fmt.Errorf("%s: %w", name, err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return files, fmt.Errorf("%s: %w", name, err)
			}
			if err := writeFile(target, tr); err != nil {
				return files, fmt.Errorf("%s: %w", name, err)
			}
			files++
		default:
			return files, fmt.Errorf("%s: only regular files and folders are accepted (type %q)", name, h.Typeflag)
		}
	}
}

func writeFile(target string, r io.Reader) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// cleanName is a tar entry's name as a relative slash path inside the
// upload, or an error when it is absolute, leaves the folder or is too long.
func cleanName(name string) (string, error) {
	if len(name) > maxNameBytes {
		return "", fmt.Errorf("entry name longer than %d bytes", maxNameBytes)
	}
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("entry name %q: want a relative slash path", name)
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("entry name %q leaves the folder", name)
	}
	return c, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func httpError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}
