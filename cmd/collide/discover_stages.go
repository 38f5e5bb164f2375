package main

import (
	"context"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/profiles"
)

// discoverStages are the sources and the analysis of `collide discover`
// (package discover's har.go, openapi.go, profile.go, schema.go and
// analyze.go). They are variables so that a test can take one away: a nil
// source or analysis makes the command say so and exit 3.
var discoverStages = struct {
	fromHAR     func(path string, data []byte, allowRemote bool) ([]discover.Request, error)
	fromOpenAPI func(path string, data []byte) ([]discover.Request, error)
	fromProfile func(p *profiles.Profile) ([]discover.Request, error)
	readSchema  func(ctx context.Context, db database.DB) (discover.Schema, error)
	analyze     func(traces []discover.Trace, s discover.Schema) []discover.Finding
	captures    func(r discover.Request) map[string]string
	render      func(r discover.Request, vars map[string]string) (discover.Request, error)
}{
	fromHAR: func(path string, data []byte, allowRemote bool) ([]discover.Request, error) {
		return discover.FromHAR(path, data, discover.AllowRemote(allowRemote))
	},
	fromOpenAPI: discover.FromOpenAPI,
	fromProfile: discover.FromProfile,
	readSchema:  discover.ReadSchema,
	analyze:     discover.Analyze,
	captures:    func(r discover.Request) map[string]string { return r.Capture },
	render:      discover.Request.Render,
}
