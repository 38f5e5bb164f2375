package report

import "io"

// writeNothing is the "none" format: nothing on stdout (the run folder or
// audit folder still holds everything).
func writeNothing[D any](io.Writer, D, FormatOptions) error { return nil }
