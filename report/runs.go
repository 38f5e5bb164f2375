package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// ResultFile is the name of the result file in a run folder.
const ResultFile = "result.json"

// ErrNoRuns says that a folder holds no run folder at any depth.
var ErrNoRuns = errors.New("no run folder (no result.json) found")

// Run is one run's result and the folder it was read from.
type Run struct {
	// Dir is the run folder: the folder that holds result.json.
	Dir    string
	Result *Result
}

// HistoryPath is the path of the run's history file, or "" when the result
// names none.
func (r Run) HistoryPath() string {
	if r.Result == nil || r.Result.History == "" {
		return ""
	}
	return filepath.Join(r.Dir, r.Result.History)
}

// LoadRun reads one run from a run folder or a result.json path.
func LoadRun(path string) (Run, error) {
	res, err := ReadFile(path)
	if err != nil {
		return Run{}, err
	}
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
	}
	return Run{Dir: dir, Result: res}, nil
}

// LoadRuns resolves one command-line argument into runs, oldest first: a
// result.json file or a run folder gives one run; any other folder gives
// every run folder below it (see FindRuns). skipped holds the result files
// found but not readable (malformed, another schema); err is set when path
// does not exist (wrapping fs.ErrNotExist), holds no run at all (wrapping
// ErrNoRuns), or cannot be read.
func LoadRuns(path string) (runs []Run, skipped []error, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	if !st.IsDir() {
		r, err := LoadRun(path)
		if err != nil {
			return nil, nil, err
		}
		return []Run{r}, nil, nil
	}
	if _, err := os.Stat(filepath.Join(path, ResultFile)); err == nil {
		r, err := LoadRun(path)
		if err != nil {
			return nil, nil, err
		}
		return []Run{r}, nil, nil
	}
	return FindRuns(path)
}

// FindRuns walks dir and reads every result.json below it, returning the
// runs oldest first by Started (ties by folder). A result file that cannot be
// read is reported in skipped and does not stop the walk. err wraps ErrNoRuns
// when no result file was found at all, and reports a walk that failed.
func FindRuns(dir string) (runs []Run, skipped []error, err error) {
	found := 0
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			skipped = append(skipped, fmt.Errorf("report: %w", err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || d.Name() != ResultFile {
			return nil
		}
		found++
		r, err := LoadRun(path)
		if err != nil {
			skipped = append(skipped, err)
			return nil
		}
		runs = append(runs, r)
		return nil
	})
	if walkErr != nil {
		return nil, skipped, fmt.Errorf("report: %w", walkErr)
	}
	if found == 0 {
		return nil, nil, fmt.Errorf("report: %s: %w", dir, ErrNoRuns)
	}
	SortRuns(runs)
	return runs, skipped, nil
}

// SortRuns orders runs oldest first by Started, then by folder.
func SortRuns(runs []Run) {
	sort.SliceStable(runs, func(i, j int) bool {
		a, b := runs[i].Result.Started, runs[j].Result.Started
		if !a.Equal(b) {
			return a.Before(b)
		}
		return runs[i].Dir < runs[j].Dir
	})
}
