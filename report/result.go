package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/collide-dev/collide/attacks"
	"github.com/collide-dev/collide/chaos"
	"github.com/collide-dev/collide/history"
	"github.com/collide-dev/collide/invariants"
)

// SchemaVersion is the version of the result.json schema written by this
// build. Readers accept this version only; docs/results.md describes it.
const SchemaVersion = 1

// Verdict is the overall verdict of a run: the same type as a check's
// verdict (invariants.Verdict), so one invariant's verdict compares and
// prints like the run's.
type Verdict = invariants.Verdict

const (
	Pass        = invariants.Pass        // every invariant held, few enough unknown outcomes
	Fail        = invariants.Fail        // an invariant was violated
	Unknown     = invariants.Unknown     // nothing violated, but too many unknown outcomes to be sure
	Error       = invariants.Error       // the run or a checker could not complete
	Interrupted = invariants.Interrupted // stopped by a signal or timeout before checking
)

// Result is everything a run records. It is written as result.json in the
// run folder, atomically.
type Result struct {
	Schema int `json:"schema"`
	// SchemaVersion repeats Schema under the name every machine output of
	// collide uses; result.json files written before it have only schema.
	SchemaVersion int    `json:"schema_version,omitempty"`
	RunID         string `json:"run_id"`
	Collide       string `json:"collide_version"`
	// Dependencies maps module paths to the versions built in.
	Dependencies map[string]string `json:"dependencies,omitempty"`
	Env          Env               `json:"env"`
	Profile      ProfileInfo       `json:"profile"`
	// Seed is the run's random seed: --seed with it replays the run's choices.
	Seed     int64     `json:"seed"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Verdict  Verdict   `json:"verdict"`
	ExitCode int       `json:"exit_code"`
	// Error is why the run ended in error or was interrupted.
	Error string `json:"error,omitempty"`
	// Warnings are problems that did not decide the verdict, such as a
	// teardown step that failed after an invariant failed.
	Warnings []string `json:"warnings,omitempty"`
	Target   string   `json:"target"`
	Database string   `json:"database"`
	// Attack holds one entry per operation.
	Attack []*attacks.Metrics `json:"attack"`
	// Totals are the outcome counts over every operation.
	Totals history.Counts `json:"totals"`
	// UnknownFraction is Totals.Unknown / Totals.Total().
	UnknownFraction float64 `json:"unknown_fraction"`
	MaxUnknown      float64 `json:"max_unknown"`
	// Chaos is the timeline of every toxic added and removed.
	Chaos []chaos.Event `json:"chaos"`
	// ChaosLinks is the traffic that crossed each chaos link (bytes each
	// way, connections), read just before the links were deleted; omitted
	// when the run had no links. Added in schema 1 without a version bump.
	ChaosLinks []chaos.LinkTraffic `json:"chaos_links,omitempty"`
	Invariants []invariants.Result `json:"invariants"`
	// History is the history file's name, relative to the run folder.
	History string `json:"history"`
	// VegetaResults is the name of the history converted to Vegeta's binary
	// results format (see WriteVegetaResults), relative to the run folder;
	// empty when it was not written. Added in schema 1 without a version bump:
	// readers ignore fields they do not know.
	VegetaResults string `json:"vegeta_results,omitempty"`
	// Shard is set on the run of one shard of a sharded run (collide run
	// --shard i/N); its verdict is "partial" until collide merge checks it.
	// Added in schema 1 without a version bump.
	Shard *ShardInfo `json:"shard,omitempty"`
	// Merge is set on the result of collide merge: the shards it read.
	Merge *MergeInfo `json:"merge,omitempty"`
}

// ShardInfo identifies one shard of a sharded run and bounds its clock.
type ShardInfo struct {
	// Group names the sharded run; every shard of it carries the same one.
	Group string `json:"group"`
	// ProfileHash is the profile's hash (as ProfileInfo.Hash).
	ProfileHash string `json:"profile_hash"`
	// Index is the shard's number, 0 … Count-1.
	Index int `json:"index"`
	Count int `json:"count"`
	// StartAt is the start time the shards agreed on.
	StartAt time.Time `json:"start_at,omitzero"`
	// ClockOffsetNS is the shard's clock minus the reference clock, in
	// nanoseconds; ClockBoundNS the largest error of that offset, in
	// nanoseconds (the merge widens each op by it on both sides).
	ClockOffsetNS int64 `json:"clock_offset_ns"`
	ClockBoundNS  int64 `json:"clock_bound_ns"`
	// Dir is the shard's run folder as collide merge was given it (merge
	// results only).
	Dir string `json:"dir,omitempty"`
}

// MergeInfo is what collide merge read.
type MergeInfo struct {
	Group string `json:"group"`
	Count int    `json:"count"`
	// Shards are the shards merged, by index.
	Shards []ShardInfo `json:"shards"`
	// Missing are the indexes of shards not given (with --partial).
	Missing []int `json:"missing,omitempty"`
	// Partial reports a merge of fewer than Count shards: its verdict is
	// never pass (a pass becomes inconclusive).
	Partial bool `json:"partial,omitempty"`
}

// Files in a run folder besides result.json and history.jsonl.
const (
	// VegetaFile is the conventional name of the Vegeta results file.
	VegetaFile = "results.bin"
)

// Env describes where the run happened.
type Env struct {
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	Hostname  string `json:"hostname"`
}

// ProfileInfo identifies the profile that ran.
type ProfileInfo struct {
	Name string `json:"name"`
	File string `json:"file"`
	// Hash is the SHA-256 of the profile text after overrides.
	Hash      string   `json:"hash"`
	About     string   `json:"about,omitempty"`
	Overrides []string `json:"overrides,omitempty"`
	// Effective is the profile as run, defaults applied, secrets redacted.
	Effective any `json:"effective,omitempty"`
}

// WriteFile writes r to path atomically: a temporary file in the same folder,
// synced, then renamed over path. A reader never sees a half-written result.
func (r *Result) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report: encode result: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic writes data to path through a synced temporary file and a
// rename.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	// CreateTemp makes the file 0600; a run folder is meant to be shared
	// (CI artifacts, teammates), so give it the usual 0644.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("report: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("report: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadFile reads a result from a result.json path or from a run folder.
func ReadFile(path string) (*Result, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "result.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("report: %s: schema %d, this collide reads schema %d", path, r.Schema, SchemaVersion)
	}
	if r.SchemaVersion != 0 && r.SchemaVersion != r.Schema {
		return nil, fmt.Errorf("report: %s: schema %d but schema_version %d", path, r.Schema, r.SchemaVersion)
	}
	return &r, nil
}

// OutputSchemaVersion is the schema_version of the JSON documents collide
// writes besides result.json (list, history, compare, audit.json): a reader
// that finds a higher number knows a field may have changed meaning. It
// rises only when a field is removed or changes meaning; added fields keep
// it.
const OutputSchemaVersion = 1
