// Package client is the browser side of meetings: the meeting page template (join page with
// preview and device choice, lobby, the room) and its static files, vanilla JavaScript ES modules
// and CSS with no build step. The page gets its texts from the server's catalog (a JSON block) and
// talks to the server only through the signalling protocol of docs/signalling.md. There is no
// inline script or style: the site's CSP forbids them.
//
// Only package conferencing imports it; it serves the files under /meetings/static/.
package client

import (
	"embed"
	"io/fs"
)

//go:embed pages/*.html
var pageFiles embed.FS

//go:embed static/*
var staticFiles embed.FS

// Pages returns the page templates, for web.NewRenderer.
func Pages() fs.FS { return sub(pageFiles, "pages") }

// Static returns the JavaScript modules and stylesheets, by base name.
func Static() fs.FS { return sub(staticFiles, "static") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded at build time: a failure is a build bug
	}
	return s
}
