package main

import (
	"context"

	"github.com/collide-dev/collide/database"
	"github.com/collide-dev/collide/discover"
	"github.com/collide-dev/collide/profiles"
)

// discoverStages are the sources and the analysis of `collide discover`,
// which package discover's har.go, openapi.go, profile.go, schema.go and
// analyze.go provide (issue 17). They are variables so that the command
// builds, and its tests run with stand-ins, before those files land: when
// they do, point each field at its function (fromHAR: discover.FromHAR
// with discover.AllowRemote(allowRemote); captures: func(r discover.Request)
// map[string]string { return r.Capture }; render: discover.Request.Render).
// A nil source or analysis makes the command say so and exit 3; without
// captures and render, requests are sent as they are.
var discoverStages = struct {
	fromHAR     func(path string, data []byte, allowRemote bool) ([]discover.Request, error)
	fromOpenAPI func(path string, data []byte) ([]discover.Request, error)
	fromProfile func(p *profiles.Profile) ([]discover.Request, error)
	readSchema  func(ctx context.Context, db database.DB) (discover.Schema, error)
	analyze     func(traces []discover.Trace, s discover.Schema) []discover.Finding
	captures    func(r discover.Request) map[string]string
	render      func(r discover.Request, vars map[string]string) (discover.Request, error)
}{}
