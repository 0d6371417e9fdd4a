package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/piiguard/piiguard/internal/fsutil"
)

// SyncPolicy says when a FileSink calls fsync.
type SyncPolicy uint8

const (
	// SyncEveryWrite, the default, fsyncs after every line: when Record or
	// WriteLine returns nil, the line survives a crash of the process and of
	// the machine. It costs a disk flush per event; put an AsyncSink in front
	// (with SyncOnFlush) to group them.
	SyncEveryWrite SyncPolicy = iota
	// SyncOnFlush fsyncs only on Flush, on rotation and on Close. Every line
	// is still written to the operating system before Record returns, so it
	// survives a crash of the process, but a crash of the machine can lose
	// the lines written since the last Flush. An AsyncSink flushes its sink
	// each time its buffer drains.
	SyncOnFlush
)

// DefaultMaxFileSize is the size at which a FileSink rotates when
// FileOptions.MaxSize is zero.
const DefaultMaxFileSize = 64 << 20

// FileOptions are the optional settings of a FileSink. The zero value is
// usable.
type FileOptions struct {
	// MaxSize is the size in bytes past which the active file is rotated
	// before the next line (default DefaultMaxFileSize; negative: never).
	MaxSize int64
	// Sync is the fsync policy (default SyncEveryWrite).
	Sync SyncPolicy
	// Perm is the mode of new files (default 0600).
	Perm os.FileMode
}

// FileSink writes an audit stream as JSON Lines: one event, chained record or
// checkpoint per line, appended to a file. It is a Sink (plain events), a
// LineWriter (a Chain writes through it) and a Querier.
//
// Rotation: before a line that would take the active file past MaxSize, the
// file is synced, closed and renamed to NAME.000001.EXT (then .000002, …; the
// index is one more than the highest already in the directory), and a new
// active file is created under the original path. The numbering keeps the
// files in the order they were written; OpenLog reads them back in that
// order. Nothing is deleted: retention is the operator's decision.
//
// A failed write is cut back off the file, so a line is stored whole or not
// at all. On open, a torn last line left by a crash in the middle of a write
// (one without its newline, never acknowledged) is cut off.
type FileSink struct {
	path string
	opts FileOptions

	mu     sync.Mutex
	f      *os.File
	size   int64
	next   int // index of the next rotated file
	dirty  bool
	closed bool
	buf    []byte
}

// NewFileSink opens (creating it if needed) the JSON Lines file at path and
// returns a FileSink appending to it.
func NewFileSink(path string, opts FileOptions) (*FileSink, error) {
	if opts.MaxSize == 0 {
		opts.MaxSize = DefaultMaxFileSize
	}
	if opts.Perm == 0 {
		opts.Perm = 0o600
	}
	s := &FileSink{path: path, opts: opts}
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	s.next = 1
	if n := len(rotated); n > 0 {
		s.next = rotated[n-1].index + 1
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *FileSink) open() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, s.opts.Perm)
	if err != nil {
		return fmt.Errorf("audit: opening log: %w", err)
	}
	size, err := repairTail(f)
	if err == nil {
		_, err = f.Seek(size, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("audit: opening log: %w", err)
	}
	s.f, s.size = f, size
	return nil
}

// repairTail cuts a torn last line off f and returns the resulting size.
func repairTail(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = start + int64(i) + 1
			break
		}
		end = start
	}
	if end != size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// Record writes e as a plain (unchained) event line.
func (s *FileSink) Record(ctx context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line, err := appendEvent(s.buf[:0], &e)
	if err != nil {
		return err
	}
	s.buf = line
	return s.writeLocked(ctx, line)
}

// WriteLine appends line and a newline to the active file, rotating first
// when needed. It implements LineWriter.
func (s *FileSink) WriteLine(ctx context.Context, line []byte) error {
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("audit: line contains a newline")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := append(s.buf[:0], line...)
	s.buf = buf
	return s.writeLocked(ctx, buf)
}

// writeLocked writes buf (which has spare room for the newline).
func (s *FileSink) writeLocked(ctx context.Context, buf []byte) error {
	if s.closed {
		return errSinkClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	buf = append(buf, '\n')
	s.buf = buf[:0]
	if s.opts.MaxSize > 0 && s.size > 0 && s.size+int64(len(buf)) > s.opts.MaxSize {
		if err := s.rotateLocked(); err != nil {
			return err
		}
	}
	if _, err := s.f.Write(buf); err != nil {
		// Cut off what may have been written, so that no torn line stays.
		_ = s.f.Truncate(s.size)
		_, _ = s.f.Seek(s.size, io.SeekStart)
		return fmt.Errorf("audit: writing log: %w", err)
	}
	s.size += int64(len(buf))
	if s.opts.Sync == SyncEveryWrite {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("audit: syncing log: %w", err)
		}
		return nil
	}
	s.dirty = true
	return nil
}

func (s *FileSink) rotateLocked() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: syncing log: %w", err)
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("audit: closing log: %w", err)
	}
	s.f = nil
	if err := os.Rename(s.path, RotatedName(s.path, s.next)); err != nil {
		// Keep writing to the same file rather than lose events.
		if oerr := s.open(); oerr != nil {
			s.closed = true
			return fmt.Errorf("audit: rotating log: %w", errors.Join(err, oerr))
		}
		return fmt.Errorf("audit: rotating log: %w", err)
	}
	s.next++
	_ = fsutil.SyncDir(filepath.Dir(s.path)) // best effort: the rename is done
	s.dirty = false
	if err := s.open(); err != nil {
		s.closed = true
		return err
	}
	return nil
}

// Flush fsyncs the active file when lines were written since the last sync.
func (s *FileSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errSinkClosed
	}
	if !s.dirty {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: syncing log: %w", err)
	}
	s.dirty = false
	return nil
}

// Close syncs and closes the active file. Calling it again does nothing.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: closing log: %w", err)
	}
	return nil
}

// Path returns the path of the active file.
func (s *FileSink) Path() string { return s.path }

// Query returns the events of the log (all its files, oldest first) that q
// matches. It does not authenticate them: run Verify first, or pass a Visit
// function to it, when the answer is evidence.
func (s *FileSink) Query(ctx context.Context, q Query) ([]Event, error) {
	// Open the files under the lock, so that a rotation cannot slip between
	// listing and opening them, and read the active file only up to its
	// current size: a snapshot of whole lines, however writes go on.
	s.mu.Lock()
	rc, err := openLog(s.path, s.size)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return collect(ctx, rc, q)
}

// RotatedName returns the name of the rotated file number index of the log at
// path: "audit.jsonl" becomes "audit.000001.jsonl".
func RotatedName(path string, index int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s.%06d%s", strings.TrimSuffix(path, ext), index, ext)
}

type rotatedFile struct {
	path  string
	index int
}

// rotatedFiles lists the rotated files of the log at path, oldest first.
func rotatedFiles(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	prefix := strings.TrimSuffix(base, ext) + "."
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: listing log files: %w", err)
	}
	var out []rotatedFile
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) || len(name) < len(prefix)+len(ext)+6 {
			continue
		}
		digits := name[len(prefix) : len(name)-len(ext)]
		n, err := strconv.Atoi(digits)
		if err != nil || n <= 0 || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		out = append(out, rotatedFile{path: filepath.Join(dir, name), index: n})
	}
	slices.SortFunc(out, func(a, b rotatedFile) int { return a.index - b.index })
	return out, nil
}

// LogFiles returns the files of the log at path in the order they were
// written: the rotated files by index, then the active file if it exists.
func LogFiles(path string) ([]string, error) {
	rotated, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rotated)+1)
	for _, r := range rotated {
		out = append(out, r.path)
	}
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	return out, nil
}

// OpenLog opens all the files of the log at path (see LogFiles) as one
// stream, for Verify and QueryReader. The caller closes it.
func OpenLog(path string) (io.ReadCloser, error) {
	return openLog(path, -1)
}

// openLog is OpenLog reading at most activeSize bytes of the active file
// when activeSize is not negative: a snapshot of the lines written so far.
func openLog(path string, activeSize int64) (io.ReadCloser, error) {
	names, err := LogFiles(path)
	if err != nil {
		return nil, err
	}
	m := &multiFile{}
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("audit: opening log: %w", err)
		}
		m.files = append(m.files, f)
		var r io.Reader = f
		if n == path && activeSize >= 0 {
			r = io.NewSectionReader(f, 0, activeSize)
		}
		m.readers = append(m.readers, r)
	}
	return m, nil
}

type multiFile struct {
	files   []*os.File
	readers []io.Reader
	cur     int
}

// Read reads the files one after the other.
func (m *multiFile) Read(p []byte) (int, error) {
	for m.cur < len(m.readers) {
		n, err := m.readers[m.cur].Read(p)
		if errors.Is(err, io.EOF) {
			m.cur++
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

// Close closes every file.
func (m *multiFile) Close() error {
	var errs []error
	for _, f := range m.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
