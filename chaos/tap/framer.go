package tap

// maxBody bounds the bytes of one message a decoder keeps (statement text,
// bound parameters): longer messages are seen truncated.
const maxBody = 1 << 20

// framer splits a byte stream into length-prefixed messages without
// buffering the ones its owner does not want: headers of hdrLen bytes, then a
// body whose length bodyLen computes from the header. It never changes or
// holds on to the caller's bytes; kept bodies are copied (up to maxBody).
type framer struct {
	hdrLen  int
	bodyLen func(hdr []byte) int // body length from the header; < 0: the stream is not this protocol
	keep    func(hdr []byte) int // how many bytes of this message's body to keep (at most maxBody)
	// msg receives a complete message (body truncated to what keep asked for when
	// full is larger) and returns true to cut the connection right after it.
	msg func(hdr, body []byte, full int) bool

	hdr  [5]byte
	hn   int
	full int
	left int
	kept int
	body []byte
	bad  bool
}

// feed consumes p and returns the offset just after the message that asked
// for a cut, or -1. After a bad header it ignores everything.
func (f *framer) feed(p []byte) int {
	i := 0
	for i < len(p) && !f.bad {
		if f.hn < f.hdrLen {
			k := copy(f.hdr[f.hn:f.hdrLen], p[i:])
			f.hn += k
			i += k
			if f.hn < f.hdrLen {
				return -1
			}
			f.full = f.bodyLen(f.hdr[:f.hdrLen])
			if f.full < 0 {
				f.bad = true
				return -1
			}
			f.left = f.full
			f.kept = min(f.keep(f.hdr[:f.hdrLen]), maxBody)
			f.body = f.body[:0]
		}
		k := min(f.left, len(p)-i)
		if room := f.kept - len(f.body); room > 0 {
			f.body = append(f.body, p[i:i+min(k, room)]...)
		}
		i += k
		f.left -= k
		if f.left == 0 {
			f.hn = 0
			if f.msg(f.hdr[:f.hdrLen], f.body, f.full) {
				return i
			}
			if cap(f.body) > 64<<10 {
				f.body = nil // do not hold a large buffer for the connection's life
			}
		}
	}
	return -1
}
