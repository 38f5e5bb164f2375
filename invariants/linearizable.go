package invariants

import (
	"context"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/profiles"
)

// defaultLinearizableTimeout bounds the search when the profile sets none.
const defaultLinearizableTimeout = 10 * time.Second

// maxVisualizedKeys bounds the keys drawn in the HTML visualization.
const maxVisualizedKeys = 10

const linearizableFix = "Wrap operations in transactions: serve reads and writes of one key from one ordered source: read from the primary (not a lagging replica or a cache filled before the write), write with a single atomic statement, and invalidate caches before acknowledging a write"

// linearizableChecker is the "linearizable" checker: a register (or a
// key-value store, one register per key) must behave as if every read and
// write took effect at one instant between its invoke and its response.
// The history is checked with porcupine (github.com/anishathalye/porcupine),
// partitioned by key:
//
//   - writes are ops of write_op, writing the rendered value value_from
//     (default seq);
//   - reads are ops of read_op, returning the capture read_from (default
//     value; JSON null or an absent key is null);
//   - an unknown write may have happened at any time after its invoke: it
//     never returns (its return is the end of the history), the Jepsen
//     convention; unknown reads and every fail op are left out; an unknown
//     write whose value was lost with its response (value_from names a
//     capture) wrote a value nobody saw: the next read of its key fixes it;
//   - with query, each key's value after setup is its initial value (rows of
//     key, value; a key without a row starts as null); without one, a key's
//     initial value is whatever its first linearized read saw.
//
// When the history is not linearizable, porcupine's HTML visualization of
// the failing keys is written next to the history as
// linearizability-<name>.html and named in the evidence. A search that
// outlasts timeout (default 10s) gives verdict unknown.
type linearizableChecker struct {
	name      string
	query     string
	readOp    string
	writeOp   string
	valueFrom string
	readFrom  string
	timeout   time.Duration
	before    snapshot[map[string]any]
}

// linearizableCheck is the checker's name, written once: the profile's check: value.
const linearizableCheck = "linearizable"

func init() {
	Register(Kind[linearizableFields]{
		Name: linearizableCheck, About: "reads and writes of each key form a linearizable register",
		Query: Optional, New: newLinearizable,
	})
}

// linearizableFields are linearizable's own fields.
type linearizableFields struct {
	ReadOp    profiles.OpName   `yaml:"read_op" jsonschema_description:"The operation that reads the register (required)."`
	WriteOp   profiles.OpName   `yaml:"write_op" jsonschema_description:"The operation that writes the register (required)."`
	ValueFrom string            `yaml:"value_from" jsonschema_description:"The rendered value or capture a write writes (default seq)."`
	ReadFrom  string            `yaml:"read_from" jsonschema_description:"The capture holding a read's result (default value)."`
	Timeout   profiles.Duration `yaml:"timeout" jsonschema_description:"How long the search may take before the verdict is unknown (default 10s)."`
}

// Defaults fills in value_from, read_from and timeout.
func (f *linearizableFields) Defaults() {
	f.ValueFrom = firstNonEmpty(f.ValueFrom, "seq")
	f.ReadFrom = firstNonEmpty(f.ReadFrom, "value")
	if f.Timeout == 0 {
		f.Timeout = profiles.Duration(defaultLinearizableTimeout)
	}
}

func newLinearizable(inv profiles.Invariant, f *linearizableFields) (Checker, error) {
	for _, r := range []struct {
		field string
		op    profiles.OpName
	}{{"read_op", f.ReadOp}, {"write_op", f.WriteOp}} {
		if r.op == "" {
			return nil, fmt.Errorf("%s is required by checker %s", r.field, linearizableCheck)
		}
	}
	if f.ReadOp == f.WriteOp {
		return nil, fmt.Errorf("read_op and write_op must name different operations")
	}
	return &linearizableChecker{
		name: checkName(inv, linearizableCheck), query: inv.Query, readOp: string(f.ReadOp), writeOp: string(f.WriteOp),
		valueFrom: f.ValueFrom, readFrom: f.ReadFrom, timeout: f.Timeout.D(),
	}, nil
}

// Prepare records each key's value after setup, when a query is set.
func (c *linearizableChecker) Prepare(ctx context.Context, env *Env) error {
	if strings.TrimSpace(c.query) == "" {
		return nil
	}
	var m map[string]any
	var err error
	if env == nil || env.DB == nil {
		err = fmt.Errorf("no database to query")
	} else {
		m, err = keyedValues(ctx, env.DB, c.query)
	}
	c.before.set(m, err)
	if err != nil {
		return fmt.Errorf("invariant %q: before the attack: %w", c.name, err)
	}
	return nil
}

// The register model. Values are compared as text; null is a text no
// request can send.
const nullValue = "\x00null"

type regInput struct {
	key   string
	write bool
	value string // written value
	// anyValue marks an unknown write whose value was lost with its
	// response (value_from names a capture): it wrote some value nobody
	// saw, so the register becomes unset and the next read fixes it.
	anyValue bool
}

type regOutput struct {
	value string // read value
	reads int    // reads merged into this one (see compactReads); 0 is 1
}

// regState is one key's register: unset until a write or the first read
// fixes the initial value.
type regState struct {
	set   bool
	value string
}

var regSeed = maphash.MakeSeed()

var registerModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		idx := map[string]int{}
		var parts [][]porcupine.Operation
		for _, op := range ops {
			k := op.Input.(regInput).key
			i, ok := idx[k]
			if !ok {
				i = len(parts)
				idx[k] = i
				parts = append(parts, nil)
			}
			parts[i] = append(parts[i], op)
		}
		return parts
	},
	Init: func() any { return regState{} },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write && in.anyValue {
			return true, regState{}
		}
		if in.write {
			return true, regState{set: true, value: in.value}
		}
		s := state.(regState)
		out := output.(regOutput)
		if !s.set {
			return true, regState{set: true, value: out.value}
		}
		return s.value == out.value, s
	},
	Hash: func(state any) uint64 {
		s := state.(regState)
		if !s.set {
			return 0
		}
		return maphash.String(regSeed, s.value) | 1
	},
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write && in.anyValue {
			return "write(?)"
		}
		if in.write {
			return "write(" + describeValue(in.value) + ")"
		}
		out := output.(regOutput)
		if out.reads > 1 {
			return fmt.Sprintf("%d reads → %s", out.reads, describeValue(out.value))
		}
		return "read() → " + describeValue(out.value)
	},
	DescribeState: func(state any) string {
		s := state.(regState)
		if !s.set {
			return "?"
		}
		return describeValue(s.value)
	},
}

func describeValue(v string) string {
	if v == nullValue {
		return "null"
	}
	return v
}

// keyHistory is one key's ops for porcupine, with counts for the evidence.
type keyHistory struct {
	key           string
	ops           []porcupine.Operation
	reads, writes int
	unknownWrites int
	setupOp       bool // ops[0] writes the value setup left
	// droppedUnknown counts the unknown writes whose value nobody read.
	droppedUnknown int
}

func (c *linearizableChecker) Check(ctx context.Context, env *Env) Result {
	start := time.Now()
	res := newResult(c.name, linearizableCheck, fmt.Sprintf("every %s and %s of one key takes effect at one instant between its request and its response (a linearizable register per key)", c.readOp, c.writeOp))
	if env == nil {
		return res.errorf(start, "no environment")
	}
	if err := checkOpNames(env, c.readOp, c.writeOp); err != nil {
		return res.errorf(start, "%v", err)
	}
	var initial map[string]any
	if strings.TrimSpace(c.query) != "" {
		var err error
		if initial, err = c.before.get(); err != nil {
			return res.errorf(start, "%v", err)
		}
	}
	ops, err := readOps(env, c.readOp, c.writeOp)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	if len(ops) == 0 {
		return res.errorf(start, "the history has no %q or %q ops: nothing to check", c.readOp, c.writeOp)
	}
	keys, all, err := c.build(ops, initial)
	if err != nil {
		return res.errorf(start, "%v", err)
	}
	res.Actual = fmt.Sprintf("%d %s, %d %s (%s)", len(keys), plural(len(keys), "key", "keys"), len(ops), plural(len(ops), "op", "ops"), countsText(all))

	deadline := start.Add(c.timeout)
	results := checkKeys(keys, deadline)
	var illegal []*keyHistory
	undecided := 0
	for i, r := range results {
		switch r {
		case porcupine.Illegal:
			illegal = append(illegal, keys[i])
		case porcupine.Unknown:
			undecided++
		}
	}
	if len(illegal) == 0 {
		if undecided > 0 {
			res.Verdict = Unknown
			res.Actual += fmt.Sprintf("; %d %s not decided within the timeout %s (raise timeout, or spread the load over more keys)", undecided, plural(undecided, "key", "keys"), c.timeout)
			return res.done(start)
		}
		res.Actual += "; linearizable"
		return res.done(start)
	}
	res.Verdict = Fail
	res.Anomaly = "not linearizable (stale or impossible read)"
	res.Fix = linearizableFix
	res.Actual += fmt.Sprintf("; %d %s not linearizable", len(illegal), plural(len(illegal), "key is", "keys are"))
	if undecided > 0 {
		res.Actual += fmt.Sprintf(", %d undecided", undecided)
	}
	c.explain(&res, ops, illegal[0], deadline)
	shown := illegal[:min(len(illegal), maxVisualizedKeys)]
	path, longest, verr := c.visualize(env, shown, time.Until(deadline)+5*time.Second)
	if verr != nil {
		res.addEvidence("visualization not written: " + verr.Error())
	} else {
		res.addEvidence("visualization: " + path)
	}
	for i, kh := range shown {
		line := fmt.Sprintf("%s%d %s and %d %s (%d unknown) fit no single order", keyPrefix(kh.key),
			kh.reads, plural(kh.reads, "read", "reads"), kh.writes, plural(kh.writes, "write", "writes"), kh.unknownWrites)
		if i < len(longest) && longest[i] > 0 {
			n, fit := len(kh.ops), longest[i]
			if kh.setupOp {
				n, fit = n-1, fit-1 // leave out the setup value
			}
			line += fmt.Sprintf(": at most %d of its %d ops do", fit, n)
		}
		res.addEvidence(line)
	}
	return res.done(start)
}

// build turns the history into porcupine operations per key.
func (c *linearizableChecker) build(ops []*history.Op, initial map[string]any) ([]*keyHistory, history.Counts, error) {
	var all history.Counts
	byKey := map[string]*keyHistory{}
	var order []*keyHistory
	var first, end int64
	for _, o := range ops {
		all.Add(o.Outcome)
		if t := o.Invoke.UnixNano(); first == 0 || t < first {
			first = t
		}
		if t := o.Complete.UnixNano(); t > end {
			end = t
		}
	}
	end++ // unknown writes return after everything else
	for _, o := range ops {
		write := o.Op == c.writeOp
		if o.Outcome == history.Fail || (!write && o.Outcome == history.Unknown) {
			continue
		}
		kh := byKey[o.Key]
		if kh == nil {
			kh = &keyHistory{key: o.Key}
			byKey[o.Key] = kh
			order = append(order, kh)
		}
		op := porcupine.Operation{Call: o.Invoke.UnixNano(), Return: o.Complete.UnixNano(), Metadata: o.ID}
		if write {
			v, found := opValue(o, c.valueFrom)
			switch {
			case found:
				op.Input = regInput{key: o.Key, write: true, value: textOrNull(v)}
			case o.Outcome == history.Unknown:
				// Its value (a capture) was lost with its response.
				op.Input = regInput{key: o.Key, write: true, anyValue: true}
			default:
				return nil, all, fmt.Errorf("write %s has no value or capture %q to take the written value from", fmtOp(o), c.valueFrom)
			}
			op.Output = regOutput{}
			kh.writes++
			if o.Outcome == history.Unknown {
				op.Return = end
				kh.unknownWrites++
			}
		} else {
			v, found := o.Captures[c.readFrom]
			if !found {
				return nil, all, fmt.Errorf("ok read %s has no capture %q holding the value read (capture it, and answer a missing key with null or a 404 that counts as fail)", fmtOp(o), c.readFrom)
			}
			op.Input = regInput{key: o.Key}
			op.Output = regOutput{value: textOrNull(v)}
			kh.reads++
		}
		if op.Return < op.Call {
			op.Return = op.Call
		}
		kh.ops = append(kh.ops, op)
	}
	// An unknown write whose value no read of its key returned is left
	// out: placed after everything else, where its infinite return allows,
	// it explains nothing and contradicts nothing, so the history is
	// linearizable with it exactly when it is without it. Dropping it spares
	// porcupine a search over where it might have landed. (A write of an
	// unseen value explains any read, and stays.)
	for _, kh := range order {
		read := map[string]bool{}
		for _, op := range kh.ops {
			if in := op.Input.(regInput); !in.write {
				read[op.Output.(regOutput).value] = true
			}
		}
		kept := kh.ops[:0]
		for _, op := range kh.ops {
			if in := op.Input.(regInput); in.write && !in.anyValue && op.Return == end && !read[in.value] {
				kh.droppedUnknown++
				continue
			}
			kept = append(kept, op)
		}
		kh.ops = kept
	}
	if initial != nil {
		for _, kh := range order {
			// The value after setup (null without a row) is a write that
			// completed before the attack.
			kh.setupOp = true
			kh.ops = append([]porcupine.Operation{{
				Input: regInput{key: kh.key, write: true, value: textOrNull(initial[kh.key])}, Output: regOutput{},
				Call: first - 2, Return: first - 1, Metadata: "setup",
			}}, kh.ops...)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].key < order[j].key })
	for _, kh := range order {
		kh.ops = compactReads(kh.ops)
		assignLanes(kh.ops)
	}
	return order, all, nil
}

// compactReads merges reads to spare porcupine's search, whose cost grows
// exponentially with the number of concurrent ops of one key: many
// concurrent reads of one value become one read.
//
// Take a value v written by exactly one write W, and the reads of v invoked
// after W returned. In any linearization they come after W and before the
// next write (no other write writes v), next to each other. A group of them
// that pairwise overlap in time (greatest call ≤ least return) can be
// replaced by one read of v over [greatest call, least return]: a
// linearization of either history gives one of the other, by putting the
// group's reads where the merged read is, or the merged read where the
// group's reads are. So the history is linearizable exactly when the
// compacted one is. Groups are formed greedily in call order.
func compactReads(ops []porcupine.Operation) []porcupine.Operation {
	writers := map[string]int{}   // value → number of writes
	written := map[string]int64{} // value → its write's return
	for _, op := range ops {
		if in := op.Input.(regInput); in.anyValue {
			return ops // a write of an unseen value may explain any read: the argument below needs one writer per value
		}
		if in := op.Input.(regInput); in.write {
			writers[in.value]++
			written[in.value] = op.Return
		}
	}
	type group struct {
		call, ret int64
		ids       []any
		reads     int
	}
	var out []porcupine.Operation
	groups := map[string][]porcupine.Operation{} // value → its compactable reads
	for _, op := range ops {
		in := op.Input.(regInput)
		v := op.Output.(regOutput).value
		if in.write || writers[v] != 1 || op.Call <= written[v] {
			out = append(out, op)
			continue
		}
		groups[v] = append(groups[v], op)
	}
	for _, v := range sortedKeys(groups) {
		reads := groups[v]
		sort.SliceStable(reads, func(i, j int) bool { return reads[i].Call < reads[j].Call })
		var g *group
		flush := func() {
			if g == nil {
				return
			}
			out = append(out, porcupine.Operation{
				Input: reads[0].Input, Output: regOutput{value: v, reads: g.reads},
				Call: g.call, Return: g.ret, Metadata: g.ids,
			})
			g = nil
		}
		for _, r := range reads {
			if g != nil && r.Call > g.ret {
				flush()
			}
			if g == nil {
				g = &group{call: r.Call, ret: r.Return}
			}
			g.call = max(g.call, r.Call)
			g.ret = min(g.ret, r.Return)
			g.ids = append(g.ids, r.Metadata)
			g.reads += max(r.Output.(regOutput).reads, 1)
		}
		flush()
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Call < out[j].Call })
	return out
}

func textOrNull(v any) string {
	if t, ok := valueText(v); ok {
		return t
	}
	return nullValue
}

// assignLanes gives each op a client id such that one client's ops never
// overlap, using as few clients as possible: the visualization draws one
// row per client.
func assignLanes(ops []porcupine.Operation) {
	idx := make([]int, len(ops))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ops[idx[a]].Call < ops[idx[b]].Call })
	var laneEnd []int64
	for _, i := range idx {
		lane := -1
		for l, e := range laneEnd {
			if e < ops[i].Call {
				lane = l
				break
			}
		}
		if lane < 0 {
			lane = len(laneEnd)
			laneEnd = append(laneEnd, 0)
		}
		laneEnd[lane] = ops[i].Return
		ops[i].ClientId = lane
	}
}

// checkKeys checks every key's register on a pool of GOMAXPROCS workers
// until deadline; a key not decided in time is porcupine.Unknown.
func checkKeys(keys []*keyHistory, deadline time.Time) []porcupine.CheckResult {
	results := make([]porcupine.CheckResult, len(keys))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(keys)) {
		wg.Go(func() {
			for i := range next {
				left := time.Until(deadline)
				if left <= 0 {
					results[i] = porcupine.Unknown
					continue
				}
				results[i] = porcupine.CheckOperationsTimeout(registerModel, keys[i].ops, left)
			}
		})
	}
	for i := range keys {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// visualize writes porcupine's HTML for the given keys next to the history
// and returns its path and, per key, the longest linearizable prefix found.
func (c *linearizableChecker) visualize(env *Env, keys []*keyHistory, budget time.Duration) (string, []int, error) {
	if env.HistoryPath == "" {
		return "", nil, fmt.Errorf("no history path to write next to")
	}
	var ops []porcupine.Operation
	for _, kh := range keys {
		ops = append(ops, kh.ops...)
	}
	_, info := porcupine.CheckOperationsVerbose(registerModel, ops, max(budget, time.Second))
	longest := make([]int, len(keys))
	for i, partials := range info.PartialLinearizations() {
		if i >= len(longest) {
			break
		}
		for _, p := range partials {
			longest[i] = max(longest[i], len(p))
		}
	}
	path := filepath.Join(filepath.Dir(env.HistoryPath), "linearizability-"+slug(c.name)+".html")
	if err := porcupine.VisualizePath(registerModel, info, path); err != nil {
		os.Remove(path)
		return "", longest, err
	}
	return path, longest, nil
}

// slug makes a file name part of an invariant's name: lower case letters,
// digits and dashes, at most 60 characters.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		return "check"
	}
	return s
}

// minimalIllegal shrinks one key's non-linearizable history to a subset
// that is still not linearizable, is closed (it holds the setup op and
// every write of each value its reads returned), and from which no single
// op can be removed keeping both. A closed subset proves the whole history
// illegal: deleting the other ops from a linearization of the whole leaves
// each kept read right after a kept write of its value, a linearization of
// the subset. It first takes a short closed prefix in call order, then
// removes op by op; it stops at deadline and returns what it has (still
// illegal and closed).
func minimalIllegal(ops []porcupine.Operation, deadline time.Time) []porcupine.Operation {
	illegal := func(sub []porcupine.Operation) bool {
		left := time.Until(deadline)
		return left > 0 && porcupine.CheckOperationsTimeout(registerModel, sub, left) == porcupine.Illegal
	}
	all := append([]porcupine.Operation(nil), ops...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Call < all[j].Call })
	isWrite := func(op porcupine.Operation) bool { return op.Input.(regInput).write }
	readValues := func(sub []porcupine.Operation) map[string]bool {
		vs := map[string]bool{}
		for _, op := range sub {
			if !isWrite(op) {
				vs[op.Output.(regOutput).value] = true
			}
		}
		return vs
	}
	// closure adds to the first n ops the setup op and every write of a
	// value they read, in call order.
	closure := func(n int) []porcupine.Operation {
		vs := readValues(all[:n])
		var out []porcupine.Operation
		for i, op := range all {
			if i < n || op.Metadata == "setup" || (isWrite(op) && vs[op.Input.(regInput).value]) {
				out = append(out, op)
			}
		}
		return out
	}
	lo, hi := 1, len(all)
	for lo < hi && time.Now().Before(deadline) {
		mid := (lo + hi) / 2
		if illegal(closure(mid)) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	cur := closure(hi)
	for changed := true; changed && time.Now().Before(deadline); {
		changed = false
		for i := len(cur) - 1; i >= 0 && i < len(cur) && time.Now().Before(deadline); i-- {
			if cur[i].Metadata == "setup" {
				continue
			}
			rest := append(append([]porcupine.Operation(nil), cur[:i]...), cur[i+1:]...)
			if isWrite(cur[i]) && readValues(rest)[cur[i].Input.(regInput).value] {
				continue // a kept read needs it
			}
			if illegal(rest) {
				cur, changed = rest, true
			}
		}
	}
	return cur
}

// explain names the smallest set of ops of the first failing key that no
// single register order explains.
func (c *linearizableChecker) explain(res *Result, ops []*history.Op, kh *keyHistory, deadline time.Time) {
	budget := time.Now().Add(min(max(time.Until(deadline), time.Second), 5*time.Second))
	minimal := minimalIllegal(kh.ops, budget)
	byID := map[uint64]*history.Op{}
	for _, o := range ops {
		byID[o.ID] = o
	}
	var parts []string
	setup := ""
	for _, op := range minimal {
		in, out := op.Input.(regInput), op.Output.(regOutput)
		var ids []uint64
		switch m := op.Metadata.(type) {
		case uint64:
			ids = []uint64{m}
		case []any:
			for _, x := range m {
				if id, ok := x.(uint64); ok {
					ids = append(ids, id)
				}
			}
		default:
			setup = describeValue(in.value)
			continue
		}
		for _, id := range ids {
			o := byID[id]
			if o == nil {
				continue
			}
			if in.write {
				res.addOps("write", o)
				parts = append(parts, fmt.Sprintf("write #%d of %s (%s→%s, %s)", id, describeValue(in.value), clock(o.Invoke), clock(o.Complete), o.Outcome))
			} else {
				res.addOps("read", o)
				parts = append(parts, fmt.Sprintf("read #%d → %s (%s→%s)", id, describeValue(out.value), clock(o.Invoke), clock(o.Complete)))
			}
		}
	}
	if len(parts) > 2*MaxOps {
		parts = append(parts[:2*MaxOps], fmt.Sprintf("%d more ops", len(parts)-2*MaxOps))
	}
	reg := "the register"
	if kh.key != "" {
		reg = keyPrefixWord(kh.key)
	}
	let := "Let " + andList(parts) + " happen"
	if setup != "" {
		let = fmt.Sprintf("Let %s hold %s after setup, and %s happen", reg, setup, andList(parts))
	} else if kh.key != "" {
		let = fmt.Sprintf("Let %s of %s happen", andList(parts), reg)
	}
	these := fmt.Sprintf("these %d ops", len(res.Ops))
	if len(res.Ops) == 1 {
		these = "this one op"
	}
	res.Explanation = fmt.Sprintf("%s; Then no single order of %s, each taking effect between its request and its response, fits one register (and every write of the values they read is among them).",
		let, these)
}

// keyPrefixWord is `key "a"` or `key 7`.
func keyPrefixWord(k string) string { return "key " + keyWord(k) }
