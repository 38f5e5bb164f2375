package attacks

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// singlePacket is the HTTP/2 single-packet attack (James Kettle, 2023): all
// requests of a burst on one connection; each request with a body has its
// HEADERS and all of its DATA but the last byte sent first; then one write
// carries every stream's closing frame (the last byte with END_STREAM, or,
// for a request without a body, its whole HEADERS with END_STREAM), so the
// server reads all of them from one TCP segment. Frames are made by
// golang.org/x/net/http2's Framer and hpack encoder.
type singlePacket struct {
	cfg  releaseConfig
	pool connPool[*h2Conn]
}

func newSinglePacket(cfg releaseConfig) releaser {
	return &singlePacket{cfg: cfg, pool: connPool[*h2Conn]{usable: (*h2Conn).usable, drop: (*h2Conn).close}}
}

func (sp *singlePacket) dial(ctx context.Context) (*h2Conn, error) {
	c, err := dialTarget(ctx, sp.cfg.base, sp.cfg.tls, []string{"h2"})
	if err != nil {
		return nil, err
	}
	h, err := newH2Conn(ctx, c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("HTTP/2 connection: %w", err)
	}
	return h, nil
}

// warm opens the first burst's connection and sends a PING through it, so
// that the first burst's write takes the paths later ones take.
func (sp *singlePacket) warm(ctx context.Context, _ int) error {
	h, err := sp.dial(ctx)
	if err != nil {
		return err
	}
	if err := h.ping(ctx); err != nil {
		h.close()
		return err
	}
	sp.put(h)
	return nil
}

func (sp *singlePacket) take(ctx context.Context, streams int) (*h2Conn, error) {
	if h, ok := sp.pool.take(streams); ok {
		return h, nil
	}
	return sp.dial(ctx)
}

func (sp *singlePacket) put(h *h2Conn) { sp.pool.put(h) }

func (sp *singlePacket) close() { sp.pool.closeAll() }

func (sp *singlePacket) release(ctx context.Context, reqs []*outgoing) ([]exchange, time.Duration) {
	n := len(reqs)
	ex := make([]exchange, n)
	failAll := func(err error) ([]exchange, time.Duration) {
		now := time.Now()
		for i := range ex {
			ex[i].err, ex[i].done = err, now
		}
		return ex, -1
	}
	h, err := sp.take(ctx, n)
	if err != nil {
		return failAll(err)
	}
	if limit := h.maxStreams(); n > limit {
		sp.put(h)
		return failAll(fmt.Errorf("single-packet: a burst of %d is more than the %d concurrent streams the server allows on one connection (lower burst.copies, or use sync: last-byte)", n, limit))
	}
	streams, final, err := h.prepare(reqs)
	if err != nil {
		sp.put(h)
		return failAll(err)
	}
	t0, t1, werr := h.releaseWrite(final)
	timer := time.NewTimer(sp.cfg.timeout)
	defer timer.Stop()
	healthy := werr == nil
	for _, st := range streams {
		select {
		case <-st.done:
		case <-timer.C:
			healthy = false
		case <-ctx.Done():
			healthy = false
		}
		if !healthy {
			break
		}
	}
	if !healthy {
		// Unanswered streams stay open on the server: drop the connection
		// so that the next burst starts clean, and end every stream.
		h.close()
	}
	for i, st := range streams {
		e := &ex[i]
		e.released = t0
		<-st.done // closed by the reader, or by close above
		e.status, e.body, e.done = st.status, st.body.Bytes(), st.end
		e.sent = werr == nil && !st.refused
		e.err = st.err
		if werr != nil {
			e.err = fmt.Errorf("single-packet release: %w", werr)
		}
	}
	switch {
	case healthy && sp.cfg.keepAlive:
		sp.put(h)
	case healthy:
		h.close()
	}
	return ex, t1.Sub(t0)
}

// h2Conn is one client HTTP/2 connection: a reader goroutine dispatches the
// server's frames to streams; writes are serialised by wmu and batched in
// wbuf so that one burst's closing frames leave in one write.
type h2Conn struct {
	c    net.Conn
	wmu  sync.Mutex
	wbuf bytes.Buffer
	fr   *http2.Framer
	henc *hpack.Encoder
	hbuf bytes.Buffer

	mu       sync.Mutex
	streams  map[uint32]*h2Stream
	nextID   uint32
	peerMax  uint32 // SETTINGS_MAX_CONCURRENT_STREAMS; 0: unlimited
	peerWin  int64  // SETTINGS_INITIAL_WINDOW_SIZE
	connWin  int64  // connection send window
	peerSize uint32 // SETTINGS_MAX_FRAME_SIZE
	dead     error  // set once the connection cannot take new streams
	done     chan struct{}
	pingAck  chan struct{}
}

// ping sends a PING and waits for its acknowledgement. Before it, in the
// same write, go 200 WINDOW_UPDATE frames of 1 byte on the connection
// (harmless: the server may send collide 200 bytes more), so that the
// connection's first write of a burst's size is not the first burst's.
func (h *h2Conn) ping(ctx context.Context) error {
	h.send(func() error {
		for range 200 {
			if err := h.fr.WriteWindowUpdate(0, 1); err != nil {
				return err
			}
		}
		return h.fr.WritePing(false, [8]byte{'c', 'o', 'l', 'l', 'i', 'd', 'e'})
	})
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case <-h.pingAck:
		return nil
	case <-h.done:
		return fmt.Errorf("HTTP/2 connection closed before its PING was answered")
	case <-t.C:
		return fmt.Errorf("HTTP/2 PING not answered within 3s")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// h2Stream is one request's stream.
type h2Stream struct {
	id   uint32
	done chan struct{} // closed by finish; the fields below are final then

	// mu guards the fields below against the reader: a frame it took for
	// the stream may arrive after the stream was ended (a timeout closed
	// the connection), and is then dropped.
	mu       sync.Mutex
	finished bool
	status   int
	body     bytes.Buffer
	err      error
	refused  bool // the server did not process it (REFUSED_STREAM, GOAWAY)
	end      time.Time
}

// update applies f to the stream unless it has been finished.
func (st *h2Stream) update(f func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.finished {
		f()
	}
}

func (st *h2Stream) finish(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.finished {
		return
	}
	st.finished = true
	st.err = err
	st.end = time.Now()
	close(st.done)
}

// clientPreface opens every HTTP/2 connection.
const clientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// recvWindow is the receive window collide grants per stream and per
// connection: responses are small and read at once.
const recvWindow = 1 << 24

// newH2Conn speaks the connection preface on c and waits for the server's
// SETTINGS; an HTTP/1.1 server answers with something else, which is the
// error.
func newH2Conn(ctx context.Context, c net.Conn) (*h2Conn, error) {
	h := &h2Conn{c: c, streams: map[uint32]*h2Stream{}, nextID: 1, peerWin: 65535, connWin: 65535, peerSize: 16384, done: make(chan struct{}), pingAck: make(chan struct{}, 1)}
	br := bufio.NewReaderSize(c, 32<<10)
	h.fr = http2.NewFramer(&h.wbuf, br)
	h.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.fr.MaxHeaderListSize = 1 << 20
	h.henc = hpack.NewEncoder(&h.hbuf)

	h.wbuf.WriteString(clientPreface)
	h.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: recvWindow})
	h.fr.WriteWindowUpdate(0, recvWindow-65535)
	deadline := time.Now().Add(3 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	if _, err := c.Write(h.wbuf.Bytes()); err != nil {
		return nil, err
	}
	h.wbuf.Reset()
	if head, err := br.Peek(len("HTTP/1.")); err == nil && string(head) == "HTTP/1." {
		line, _ := br.ReadString('\n')
		return nil, fmt.Errorf("an HTTP/1.1 response (%s)", strings.TrimSpace(line))
	}
	f, err := h.fr.ReadFrame()
	if err != nil {
		return nil, fmt.Errorf("no HTTP/2 frame: %w", err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok || sf.IsAck() {
		return nil, fmt.Errorf("a %s frame, not SETTINGS", f.Header().Type)
	}
	h.applySettings(sf)
	h.fr.WriteSettingsAck()
	if _, err := c.Write(h.wbuf.Bytes()); err != nil {
		return nil, err
	}
	h.wbuf.Reset()
	c.SetDeadline(time.Time{})
	go h.readLoop()
	return h, nil
}

func (h *h2Conn) applySettings(sf *http2.SettingsFrame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sf.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			h.peerMax = s.Val
		case http2.SettingInitialWindowSize:
			h.peerWin = int64(s.Val)
		case http2.SettingMaxFrameSize:
			h.peerSize = s.Val
		}
		return nil
	})
}

// usable reports whether the connection can take a burst of n new streams.
func (h *h2Conn) usable(n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dead == nil && len(h.streams) == 0 && h.nextID+2*uint32(n) < 1<<31-1
}

func (h *h2Conn) maxStreams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.peerMax == 0 {
		return 1 << 30
	}
	return int(h.peerMax)
}

// write sends whatever frames are in wbuf; the caller holds wmu.
func (h *h2Conn) flushLocked() error {
	if h.wbuf.Len() == 0 {
		return nil
	}
	_, err := h.c.Write(h.wbuf.Bytes())
	h.wbuf.Reset()
	return err
}

// prepare opens a stream per request and sends what can go before the
// release: for a request with a body, its HEADERS and its body but the last
// byte. It returns the streams and the closing frames, which the release
// writes at once.
func (h *h2Conn) prepare(reqs []*outgoing) ([]*h2Stream, []byte, error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	total := int64(0)
	for _, o := range reqs {
		if int64(len(o.body)) > h.peerWin {
			h.mu.Unlock()
			return nil, nil, fmt.Errorf("single-packet: a body of %d bytes is larger than the server's HTTP/2 stream window (%d); use sync: last-byte", len(o.body), h.peerWin)
		}
		total += int64(len(o.body))
	}
	if total > h.connWin {
		h.mu.Unlock()
		return nil, nil, fmt.Errorf("single-packet: %d bytes of bodies exceed the server's HTTP/2 connection window (%d); use sync: last-byte or fewer copies", total, h.connWin)
	}
	h.connWin -= total
	// Stream ids rise in the order streams open on the wire (a lower id
	// after a higher one is a protocol error): the requests with a body open
	// theirs before the release, those without in the release.
	streams := make([]*h2Stream, len(reqs))
	for _, withBody := range []bool{true, false} {
		for i, o := range reqs {
			if (len(o.body) > 0) != withBody {
				continue
			}
			st := &h2Stream{id: h.nextID, done: make(chan struct{})}
			h.nextID += 2
			h.streams[st.id] = st
			streams[i] = st
		}
	}
	maxFrame := int(h.peerSize)
	h.mu.Unlock()

	for i, o := range reqs {
		if len(o.body) == 0 {
			continue // its HEADERS go in the release
		}
		block := h.encodeHeaders(o)
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: streams[i].id, BlockFragment: block, EndHeaders: true}); err != nil {
			return nil, nil, err
		}
		if err := writeData(h.fr, streams[i].id, o.body[:len(o.body)-1], false, maxFrame); err != nil {
			return nil, nil, err
		}
	}
	if err := h.flushLocked(); err != nil {
		h.fail(err)
		return nil, nil, fmt.Errorf("single-packet: write the held-back frames: %w", err)
	}
	// The closing frames, encoded now into wbuf and copied out: the
	// hpack encoder's state follows the order frames are written in.
	for i, o := range reqs {
		if len(o.body) == 0 {
			block := h.encodeHeaders(o)
			if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: streams[i].id, BlockFragment: block, EndHeaders: true, EndStream: true}); err != nil {
				return nil, nil, err
			}
		} else if err := h.fr.WriteData(streams[i].id, true, o.body[len(o.body)-1:]); err != nil {
			return nil, nil, err
		}
	}
	final := bytes.Clone(h.wbuf.Bytes())
	h.wbuf.Reset()
	return streams, final, nil
}

// releaseWrite writes the closing frames in one write; it returns when the
// write began and ended.
func (h *h2Conn) releaseWrite(final []byte) (t0, t1 time.Time, err error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	t0 = time.Now()
	_, err = h.c.Write(final)
	t1 = time.Now()
	if err != nil {
		h.fail(err)
	}
	return t0, t1, err
}

// writeData writes p on stream id in frames of at most maxFrame bytes.
func writeData(fr *http2.Framer, id uint32, p []byte, end bool, maxFrame int) error {
	for len(p) > maxFrame {
		if err := fr.WriteData(id, false, p[:maxFrame]); err != nil {
			return err
		}
		p = p[maxFrame:]
	}
	if len(p) == 0 && !end {
		return nil
	}
	return fr.WriteData(id, end, p)
}

// encodeHeaders hpack-encodes o's request header block.
func (h *h2Conn) encodeHeaders(o *outgoing) []byte {
	h.hbuf.Reset()
	scheme := o.url.Scheme
	path := o.url.RequestURI()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	enc := func(name, value string) { h.henc.WriteField(hpack.HeaderField{Name: name, Value: value}) }
	enc(":method", o.method)
	enc(":scheme", scheme)
	enc(":authority", o.url.Host)
	enc(":path", path)
	for name, vs := range o.header {
		lower := strings.ToLower(name)
		switch lower {
		case "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length":
			continue
		}
		for _, v := range vs {
			enc(lower, v)
		}
	}
	if len(o.body) > 0 || o.method == http.MethodPost || o.method == http.MethodPut || o.method == http.MethodPatch {
		enc("content-length", strconv.Itoa(len(o.body)))
	}
	if o.header.Get("User-Agent") == "" {
		enc("user-agent", "collide")
	}
	return bytes.Clone(h.hbuf.Bytes())
}

// readLoop reads the server's frames until the connection ends.
func (h *h2Conn) readLoop() {
	defer close(h.done)
	for {
		f, err := h.fr.ReadFrame()
		if err != nil {
			h.fail(fmt.Errorf("HTTP/2 connection: %w", err))
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.applySettings(f)
				h.send(func() error { return h.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				h.send(func() error { return h.fr.WritePing(true, f.Data) })
			} else {
				select {
				case h.pingAck <- struct{}{}:
				default:
				}
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				h.mu.Lock()
				h.connWin += int64(f.Increment)
				h.mu.Unlock()
			}
		case *http2.MetaHeadersFrame:
			st := h.stream(f.StreamID)
			if st == nil {
				continue
			}
			if s, err := strconv.Atoi(f.PseudoValue("status")); err == nil && s >= 200 {
				st.update(func() { st.status = s })
			}
			if f.StreamEnded() {
				h.end(st, nil)
			}
		case *http2.DataFrame:
			st := h.stream(f.StreamID)
			if n := len(f.Data()); n > 0 {
				h.send(func() error {
					if err := h.fr.WriteWindowUpdate(0, uint32(n)); err != nil {
						return err
					}
					if st != nil && !f.StreamEnded() {
						return h.fr.WriteWindowUpdate(f.StreamID, uint32(n))
					}
					return nil
				})
			}
			if st == nil {
				continue
			}
			st.update(func() {
				if room := maxBody - st.body.Len(); room > 0 {
					d := f.Data()
					st.body.Write(d[:min(len(d), room)])
				}
			})
			if f.StreamEnded() {
				h.end(st, nil)
			}
		case *http2.RSTStreamFrame:
			if st := h.stream(f.StreamID); st != nil {
				st.update(func() {
					st.refused = f.ErrCode == http2.ErrCodeRefusedStream
					st.status = 0
				})
				h.end(st, fmt.Errorf("stream reset by the server: %s", f.ErrCode))
			}
		case *http2.GoAwayFrame:
			h.goAway(f.LastStreamID, f.ErrCode)
		}
	}
}

// send writes frames made by write, serialised with the burst's writes.
func (h *h2Conn) send(write func() error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if err := write(); err == nil {
		if err := h.flushLocked(); err != nil {
			h.fail(err)
		}
	}
}

func (h *h2Conn) stream(id uint32) *h2Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[id]
}

func (h *h2Conn) end(st *h2Stream, err error) {
	h.mu.Lock()
	delete(h.streams, st.id)
	h.mu.Unlock()
	st.finish(err)
}

// goAway ends the streams the server says it never processed; the others
// may still complete, and no new stream starts on this connection.
func (h *h2Conn) goAway(last uint32, code http2.ErrCode) {
	h.mu.Lock()
	if h.dead == nil {
		h.dead = fmt.Errorf("server sent GOAWAY (%s)", code)
	}
	var refused []*h2Stream
	for id, st := range h.streams {
		if id > last {
			st.update(func() { st.refused = true })
			refused = append(refused, st)
			delete(h.streams, id)
		}
	}
	h.mu.Unlock()
	for _, st := range refused {
		st.finish(errors.New("not processed: the server sent GOAWAY before this stream"))
	}
}

// fail ends the connection and every stream still open on it.
func (h *h2Conn) fail(err error) {
	h.mu.Lock()
	if h.dead == nil {
		h.dead = err
	}
	open := h.streams
	h.streams = map[uint32]*h2Stream{}
	h.mu.Unlock()
	h.c.Close()
	for _, st := range open {
		st.finish(err)
	}
}

func (h *h2Conn) close() { h.fail(errors.New("connection closed by collide")) }
