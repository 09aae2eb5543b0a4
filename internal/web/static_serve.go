package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var staticFiles embed.FS

// asset is one embedded static file and the hash that versions its URL.
type asset struct {
	body []byte
	hash string
}

// assets are the embedded static files (CSS, the small JS, the icon), addressed by base name.
type assets struct {
	files map[string]asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a.files[path.Base(p)] = asset{body: body, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	return a, nil
}

// url returns the versioned URL of a static file, so browsers may cache it for a year.
func (a *assets) url(name string) string {
	if f, ok := a.files[name]; ok {
		return "/static/" + name + "?v=" + f.hash
	}
	return "/static/" + name
}

// staticServe is GET /static/{file}. A URL with the current ?v= hash is immutable; any other gets
// revalidated through the ETag.
func (s *Server) staticServe(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	f, ok := s.assets.files[name]
	if !ok {
		s.render.statusPage(w, r, http.StatusNotFound, "web.error.not_found.title", "web.error.not_found.text")
		return
	}
	h := w.Header()
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
