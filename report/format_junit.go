package report

import "io"

// reportJUnit writes the runs as one JUnit XML document, one <testsuite>
// per run.
func reportJUnit(w io.Writer, runs []Run, _ FormatOptions) error {
	results := make([]*Result, len(runs))
	for i, r := range runs {
		results[i] = r.Result
	}
	return JUnit(w, results...)
}
