package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports how far a scan is, on stderr. It is told file paths and
// table names, never anything read from them.
type progress interface {
	// start begins a phase of total units (bytes, tables); bytes says
	// whether the units are bytes.
	start(what string, total int64, bytes bool)
	add(n int64)
	finish()
}

// newProgress returns a progress bar on w for mode "always", and for
// "auto" when w is a terminal; otherwise one that shows nothing.
func newProgress(mode string, w io.Writer) progress {
	switch mode {
	case "never":
		return noProgress{}
	case "auto":
		f, ok := w.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return noProgress{}
		}
	}
	return &barProgress{w: w}
}

type noProgress struct{}

func (noProgress) start(string, int64, bool) {}
func (noProgress) add(int64)                 {}
func (noProgress) finish()                   {}

// barProgress draws a github.com/schollz/progressbar bar, redrawn at most
// ten times a second and cleared when a phase ends, so that it never mixes
// with the report (which goes to stdout anyway).
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) start(what string, total int64, bytes bool) {
	p.finish()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetPredictTime(true),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	p.bar = progressbar.NewOptions64(total, opts...)
}

func (p *barProgress) add(n int64) {
	if p.bar != nil {
		_ = p.bar.Add64(n)
	}
}

func (p *barProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
