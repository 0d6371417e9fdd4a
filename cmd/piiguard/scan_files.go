package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/piiguard/piiguard/detect"
)

const (
	// sniffSize is how much of a file decides whether it is text: what
	// net/http's content sniffing reads, as git reads 8,000 bytes.
	sniffSize = 512
	// hugeLine is the length from which a line is noted: it is scanned
	// all the same, in bounded memory.
	hugeLine = 1 << 20
	// trackerKeep is how much of the stream a tracker keeps to read the
	// values and lines of spans: more than the detect.Scanner holds
	// (64 KiB), so that every span it reports is still there.
	trackerKeep = 512 << 10
)

// fileJob is a file to scan, found by walking the targets.
type fileJob struct {
	path string
	size int64
}

// scanPaths walks the file and folder targets, then scans every regular
// file found, in the order found (lexical within a folder).
func (s *scanner) scanPaths(ctx context.Context, paths []string, rep *scanReport) {
	var jobs []fileJob
	var symlinks, special int
	limited := false
	add := func(path string, size int64) bool {
		if s.opts.maxFiles > 0 && len(jobs) >= s.opts.maxFiles {
			limited = true
			return false
		}
		jobs = append(jobs, fileJob{path: path, size: size})
		return true
	}
	for _, root := range paths {
		if limited || ctx.Err() != nil {
			break
		}
		fi, err := os.Stat(root)
		if err != nil {
			rep.Files = append(rep.Files, fileReport{Path: root, Status: statusError, Error: pathErrorText(err), Findings: []finding{}, Notes: []string{}})
			continue
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				rep.Files = append(rep.Files, fileReport{Path: root, Status: statusSkipped, Findings: []finding{}, Notes: []string{"not a regular file"}})
				continue
			}
			add(root, fi.Size())
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				// A folder that cannot be listed: say so and go on.
				rep.Files = append(rep.Files, fileReport{Path: path, Status: statusError, Error: pathErrorText(err), Findings: []finding{}, Notes: []string{}})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			switch t := d.Type(); {
			case t.IsDir():
				return nil
			case t&fs.ModeSymlink != 0:
				symlinks++
				return nil
			case !t.IsRegular():
				special++
				return nil
			}
			info, err := d.Info()
			if err != nil {
				rep.Files = append(rep.Files, fileReport{Path: path, Status: statusError, Error: pathErrorText(err), Findings: []finding{}, Notes: []string{}})
				return nil
			}
			if !add(path, info.Size()) {
				return fs.SkipAll
			}
			return nil
		})
		if err != nil && ctx.Err() == nil {
			rep.Files = append(rep.Files, fileReport{Path: root, Status: statusError, Error: pathErrorText(err), Findings: []finding{}, Notes: []string{}})
		}
	}
	if symlinks > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s not followed", count(symlinks, "symbolic link")))
	}
	if special > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s skipped (devices, sockets, pipes)", count(special, "special file")))
	}
	if limited {
		rep.Notes = append(rep.Notes, fmt.Sprintf("stopped after %s (-max-files)", count(s.opts.maxFiles, "file")))
	}

	var total int64
	for _, j := range jobs {
		total += s.readSize(j.size)
	}
	s.progress.start("scanning files", total, true)
	defer s.progress.finish()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		rep.Files = append(rep.Files, s.scanFile(ctx, j))
	}
}

// readSize is how much of a file of size bytes the scan reads.
func (s *scanner) readSize(size int64) int64 {
	if s.opts.maxBytes > 0 {
		return min(size, s.opts.maxBytes)
	}
	return size
}

// pathErrorText is the error of a file operation without the path, which
// the report gives beside it.
func pathErrorText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// scanFile scans one file: a count per kind, the line and masked value of
// the first few of each, and notes on what was odd about the file.
func (s *scanner) scanFile(ctx context.Context, j fileJob) fileReport {
	rep := fileReport{Path: j.path, Findings: []finding{}, Notes: []string{}}
	f, err := os.Open(j.path)
	if err != nil {
		rep.Status, rep.Error = statusError, pathErrorText(err)
		return rep
	}
	defer f.Close()

	head := make([]byte, sniffSize)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		rep.Status, rep.Error = statusError, pathErrorText(err)
		return rep
	}
	if why, binary := sniffBinary(head); binary {
		s.progress.add(s.readSize(j.size))
		rep.Status = statusSkipped
		rep.Notes = append(rep.Notes, "skipped: "+why)
		return rep
	}

	rd := func() io.Reader {
		var r io.Reader = io.MultiReader(bytes.NewReader(head), f)
		if s.opts.maxBytes > 0 {
			r = io.LimitReader(r, s.opts.maxBytes)
		}
		return r
	}
	fc := newFindings(s.opts.hits)
	var t *tracker
	if comma, ok := csvComma(j.path); ok {
		t = newTracker(ctx, rd(), s.progress)
		var line int
		if line, err = s.scanCSV(t, comma, fc); line > 0 {
			// Not CSV after all (a quote out of place): read it again
			// as text.
			rep.Notes = append(rep.Notes, fmt.Sprintf("not valid CSV (line %d): scanned as text", line))
			s.progress.add(-t.n)
			if _, err = f.Seek(0, io.SeekStart); err == nil {
				_, err = io.ReadFull(f, head)
			}
			if err != nil {
				rep.Status, rep.Error = statusError, pathErrorText(err)
				return rep
			}
			t = nil
			fc = newFindings(s.opts.hits)
		}
	}
	if t == nil {
		t = newTracker(ctx, rd(), s.progress)
		err = s.scanStream(t, fc)
	}
	rep.Bytes = t.n
	if err != nil {
		rep.Status = statusError
		if ctx.Err() != nil {
			rep.Error = "interrupted"
		} else {
			rep.Error = fmt.Sprintf("read error after %d bytes: %s", t.n, pathErrorText(err))
		}
		return rep
	}
	rep.Truncated = s.opts.maxBytes > 0 && j.size > s.opts.maxBytes
	t.finish(rep.Truncated)
	rep.Findings = fc.list()
	rep.Status = statusClean
	if len(rep.Findings) > 0 {
		rep.Status = statusPII
	}
	if rep.Truncated {
		rep.Notes = append(rep.Notes, fmt.Sprintf("read the first %d of %d bytes (-max-bytes)", s.opts.maxBytes, j.size))
	}
	if t.invalid > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("invalid UTF-8: %s, the first on line %d (scanned as bytes)", count(t.invalid, "byte"), t.invalidLine))
	}
	if t.longest >= hugeLine {
		rep.Notes = append(rep.Notes, fmt.Sprintf("long lines: line %d is %d bytes (scanned in bounded memory)", t.longestLine, t.longest))
	}
	return rep
}

// findings collects the values found in a file, by kind in the order
// first found.
type findings struct {
	hits   int
	byKind map[detect.Kind]*finding
	order  []detect.Kind
}

func newFindings(hits int) *findings {
	return &findings{hits: hits, byKind: map[detect.Kind]*finding{}}
}

// add counts a span; value is called for the line and the value of one of
// the first few of its kind.
func (fc *findings) add(sp detect.Span, at func() (line int, value []byte, column string, ok bool)) {
	fd := fc.byKind[sp.Kind]
	if fd == nil {
		fd = &finding{Kind: sp.Kind.String(), First: []hit{}}
		fc.byKind[sp.Kind] = fd
		fc.order = append(fc.order, sp.Kind)
	}
	fd.Count++
	if len(fd.First) < fc.hits {
		line, value, column, ok := at()
		masked := "[" + sp.Kind.String() + "]"
		if ok {
			masked = detect.Mask(sp.Kind, string(value))
		}
		fd.First = append(fd.First, hit{Line: line, Column: column, Masked: masked, Recognizer: sp.Recognizer, Confidence: sp.Confidence})
	}
}

func (fc *findings) list() []finding {
	out := []finding{}
	for _, k := range fc.order {
		out = append(out, *fc.byKind[k])
	}
	return out
}

// scanStream scans t as text with a detect.Scanner.
func (s *scanner) scanStream(t *tracker, fc *findings) error {
	sc := s.d.NewScanner(t)
	for sc.Scan() {
		sp := sc.Span()
		fc.add(sp, func() (int, []byte, string, bool) {
			line, value, ok := t.at(sp)
			return line, value, "", ok
		})
	}
	if err := sc.Err(); err != nil {
		return errors.Unwrap(err) // detect's offset is said by the caller
	}
	return nil
}

// csvComma says whether a file is read as CSV (.csv) or TSV (.tsv), and
// with which separator.
func csvComma(path string) (rune, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return ',', true
	case ".tsv":
		return '\t', true
	}
	return 0, false
}

// scanCSV scans t as CSV, one record at a time: each field with its
// column's name from the header as context (detect.FindField), so that a
// date of birth under "dob" is found in every row, not only the first.
// It returns the line of a record that is not CSV, to read the file again
// as text; memory is bounded by the longest record.
func (s *scanner) scanCSV(t *tracker, comma rune, fc *findings) (badLine int, err error) {
	r := csv.NewReader(t)
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var header []string
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, t.ctx.Err()) && t.err == nil {
			return pe.StartLine, nil
		}
		if err != nil {
			return 0, err
		}
		for i, field := range rec {
			name := ""
			if !first && i < len(header) {
				name = header[i]
			}
			for _, sp := range s.d.FindField(name, field) {
				fc.add(sp, func() (int, []byte, string, bool) {
					line, _ := r.FieldPos(i)
					return line, []byte(field[sp.Start:sp.End]), name, true
				})
			}
		}
		if first {
			header = slices.Clone(rec)
		}
	}
}

// sniffBinary says whether the start of a file is that of a file that is
// not text, and what it is.
func sniffBinary(head []byte) (why string, binary bool) {
	switch {
	case bytes.HasPrefix(head, []byte("SQLite format 3\x00")):
		return "an SQLite database: scan it as sqlite:PATH", true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16 text (convert it to UTF-8 to scan it)", true
	}
	ct := http.DetectContentType(head)
	if bytes.IndexByte(head, 0) >= 0 || !strings.HasPrefix(ct, "text/") {
		ct, _, _ = strings.Cut(ct, ";")
		return "binary (" + ct + ")", true
	}
	return "", false
}

// tracker is the reader a detect.Scanner reads a file through. It keeps
// the last trackerKeep bytes, so that the values of the spans the Scanner
// reports can be masked and their lines counted, and it notes invalid
// UTF-8 and the longest line as the bytes go by. Its memory is bounded
// whatever the file and its lines.
type tracker struct {
	ctx      context.Context
	r        io.Reader
	progress progress
	n        int64 // bytes read
	err      error // the read error, if any

	buf  []byte // the stream from offset base on
	base int64
	// cur and curLine: the line of the byte at offset cur (cur >= base).
	cur     int64
	curLine int

	lines       int   // newlines read
	lineStart   int64 // offset of the current line
	longest     int64
	longestLine int

	carry       [utf8.UTFMax]byte // the start of a rune cut by a read
	ncarry      int
	scratch     []byte
	invalid     int // bytes that are not UTF-8 (as utf8.DecodeRune counts them)
	invalidLine int // the line of the first
}

func newTracker(ctx context.Context, r io.Reader, p progress) *tracker {
	return &tracker{ctx: ctx, r: r, progress: p, curLine: 1, buf: make([]byte, 0, trackerKeep)}
}

func (t *tracker) Read(p []byte) (int, error) {
	if err := t.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		t.err = err
	}
	if n > 0 {
		t.consume(p[:n])
		t.progress.add(int64(n))
	}
	return n, err
}

func (t *tracker) consume(b []byte) {
	t.checkUTF8(b)
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		at := t.n + int64(i+j)
		t.noteLine(at)
		t.lines++
		t.lineStart = at + 1
		i += j + 1
	}
	t.n += int64(len(b))

	if len(t.buf)+len(b) > cap(t.buf) {
		// Drop the older half (at least what does not fit), counting
		// the lines in what goes.
		drop := max(len(t.buf)+len(b)-cap(t.buf), len(t.buf)/2)
		drop = min(drop, len(t.buf))
		newBase := t.base + int64(drop)
		if t.cur < newBase {
			t.curLine += bytes.Count(t.buf[t.cur-t.base:drop], []byte{'\n'})
			t.cur = newBase
		}
		t.buf = t.buf[:copy(t.buf, t.buf[drop:])]
		t.base = newBase
	}
	if len(b) > cap(t.buf)-len(t.buf) {
		// A read larger than what is kept: keep its end.
		skip := len(b) - (cap(t.buf) - len(t.buf))
		t.curLine += bytes.Count(b[:skip], []byte{'\n'})
		t.base += int64(skip)
		t.cur = t.base
		b = b[skip:]
	}
	t.buf = append(t.buf, b...)
}

func (t *tracker) noteLine(end int64) {
	if l := end - t.lineStart; l > t.longest {
		t.longest, t.longestLine = l, t.lines+1
	}
}

// checkUTF8 counts the bytes of b that are not UTF-8, read after what was
// read before, holding back a rune cut at the end of b.
func (t *tracker) checkUTF8(b []byte) {
	data := b
	if t.ncarry > 0 {
		t.scratch = append(append(t.scratch[:0], t.carry[:t.ncarry]...), b...)
		data = t.scratch
	}
	start := t.n - int64(t.ncarry) // the offset of data[0]
	t.ncarry = 0
	// A rune cut at the end waits for the next read.
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				t.ncarry = copy(t.carry[:], data[i:])
				data = data[:i]
			}
			break
		}
	}
	if utf8.Valid(data) {
		return
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			if t.invalid == 0 {
				// Newlines before the carried bytes were counted in
				// t.lines already; carried bytes hold none.
				before := int64(i) - (t.n - start)
				nl := 0
				if before > 0 {
					nl = bytes.Count(data[t.n-start:int64(i)], []byte{'\n'})
				}
				t.invalidLine = t.lines + nl + 1
			}
			t.invalid++
		}
		i += size
	}
}

// finish notes the last line, and a rune cut by the end of the stream as
// invalid unless the stream was cut short (truncated).
func (t *tracker) finish(truncated bool) {
	t.noteLine(t.n)
	if t.ncarry > 0 && !truncated {
		if t.invalid == 0 {
			t.invalidLine = t.lines + 1
		}
		// Counted as a decoder counts them: each byte of a cut rune.
		for b := t.carry[:t.ncarry]; len(b) > 0; {
			_, size := utf8.DecodeRune(b)
			t.invalid++
			b = b[size:]
		}
	}
}

// at returns the line of a span the Scanner reported and its value, or ok
// false if the tracker no longer holds it (which the sizes rule out).
// Spans must be asked for in the order of their offsets.
func (t *tracker) at(sp detect.Span) (line int, value []byte, ok bool) {
	start, end := int64(sp.Start), int64(sp.End)
	if start < t.cur || start < t.base || end > t.base+int64(len(t.buf)) {
		return 0, nil, false
	}
	t.curLine += bytes.Count(t.buf[t.cur-t.base:start-t.base], []byte{'\n'})
	t.cur = start
	return t.curLine, t.buf[start-t.base : end-t.base], true
}
