package main

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// newLogger logs text on a terminal and JSON otherwise (journald, files, tests). ROCCA_LOG_LEVEL=debug
// turns on debug output.
func newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if strings.EqualFold(os.Getenv("ROCCA_LOG_LEVEL"), "debug") {
		opts.Level = slog.LevelDebug
	}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, opts))
		}
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
