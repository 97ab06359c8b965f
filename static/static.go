// Package static embeds the console's CSS, JavaScript and images.
package static

import (
	"embed"
	"net/http"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Handler serves the embedded files; they are cached for a day.
func Handler() http.Handler {
	fs := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fs.ServeHTTP(w, r)
	})
}
