package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/piiguard/piiguard/detect"
)

// exitFound is the exit code of piiguard scan when it found personal data
// that is not sealed, for CI jobs that tell it from a failure (1).
const exitFound = 3

// Bounds of the scan command's options.
const (
	defaultMaxBytes = 64 << 20 // bytes read per file
	defaultSample   = 1000     // rows sampled per table
	maxSample       = 1_000_000
	defaultHits     = 3
	maxHits         = 100
	// maxValueBytes is how much of one column value is classified.
	maxValueBytes = 1 << 20
)

// scanSchema names the version of the JSON report; it changes when a
// field changes meaning or goes away (new fields may be added within one).
const scanSchema = "piiguard.scan/v1"

// scanReport is the report of piiguard scan; -json writes it as it is
// (doc.go documents the schema).
type scanReport struct {
	Schema    string           `json:"schema"`
	Files     []fileReport     `json:"files"`
	Databases []databaseReport `json:"databases"`
	Notes     []string         `json:"notes"`
	Summary   scanSummary      `json:"summary"`
}

// File statuses.
const (
	statusPII     = "pii"     // personal data found
	statusClean   = "clean"   // read, nothing found
	statusSkipped = "skipped" // not read: binary, not a text file
	statusError   = "error"   // could not be read
)

type fileReport struct {
	Path      string    `json:"path"`
	Status    string    `json:"status"`
	Bytes     int64     `json:"bytes"`
	Truncated bool      `json:"truncated"`
	Findings  []finding `json:"findings"`
	Notes     []string  `json:"notes"`
	Error     string    `json:"error,omitempty"`
}

// finding counts the values of one kind in a file.
type finding struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	First []hit  `json:"first"`
}

// hit is one value found, masked: never the value itself.
type hit struct {
	Line       int     `json:"line"`
	Column     string  `json:"column,omitempty"` // a CSV file's column
	Masked     string  `json:"masked"`
	Recognizer string  `json:"recognizer"`
	Confidence float64 `json:"confidence"`
}

type databaseReport struct {
	Database string        `json:"database"`
	Tables   []tableReport `json:"tables"`
	Error    string        `json:"error,omitempty"`
}

type tableReport struct {
	Table       string         `json:"table"`
	RowsSampled int            `json:"rows_sampled"`
	Columns     []columnReport `json:"columns"`
	Notes       []string       `json:"notes"`
	Error       string         `json:"error,omitempty"`
}

// Column statuses.
const (
	columnUnsealed     = "unsealed"      // plaintext values hold personal data
	columnPartlySealed = "partly-sealed" // some values sealed, others in the clear
	columnSealed       = "sealed"        // every value sampled is sealed
	columnClean        = "clean"         // nothing found, nothing sealed
)

type columnReport struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Status   string      `json:"status"`
	Values   int         `json:"values"`
	Sealed   int         `json:"sealed"`
	WithPII  int         `json:"with_pii"`
	Kinds    []kindCount `json:"kinds"`
	Examples []string    `json:"examples"`
}

// kindCount is how many values sampled hold a kind.
type kindCount struct {
	Kind   string `json:"kind"`
	Values int    `json:"values"`
}

type scanSummary struct {
	FilesScanned         int            `json:"files_scanned"`
	FilesWithPII         int            `json:"files_with_pii"`
	FilesSkipped         int            `json:"files_skipped"`
	Databases            int            `json:"databases"`
	TablesScanned        int            `json:"tables_scanned"`
	ColumnsUnsealed      int            `json:"columns_unsealed"`
	ColumnsPartlySealed  int            `json:"columns_partly_sealed"`
	ColumnsSealed        int            `json:"columns_sealed"`
	Errors               int            `json:"errors"`
	Kinds                map[string]int `json:"kinds"`
	PersonalDataUnsealed bool           `json:"personal_data_unsealed"`
}

// foundError is the outcome of a scan that found personal data in the
// clear: exit code 3.
type foundError struct{ files, columns int }

func (e *foundError) Error() string {
	var where []string
	if e.files > 0 {
		where = append(where, count(e.files, "file"))
	}
	if e.columns > 0 {
		where = append(where, count(e.columns, "column"))
	}
	return "personal data found unsealed in " + strings.Join(where, " and ")
}

// scanOptions are the flags of piiguard scan.
type scanOptions struct {
	json          bool
	maxBytes      int64
	maxFiles      int
	sample        int
	hits          int
	tables        []string
	progress      string
	kinds         []detect.Kind
	minConfidence float64
}

const scanSynopsis = "[-json] [-max-bytes N] [-max-files N] [-sample N] [-hits N] [-tables T,...] [-kinds K,...] [-min-confidence C] [-progress auto|always|never] TARGET..."

// scan runs piiguard scan: it is dispatched from run, not through a
// command group, and prefixes its own errors.
func (c *cli) scan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := c.runScan(ctx, args, stdout, stderr); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	return nil
}

func (c *cli) runScan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scan")
	var o scanOptions
	var tables, kinds string
	fs.BoolVar(&o.json, "json", false, "write the report as JSON (schema "+scanSchema+")")
	fs.Int64Var(&o.maxBytes, "max-bytes", defaultMaxBytes, "read at most `N` bytes of each file (0: all)")
	fs.IntVar(&o.maxFiles, "max-files", 0, "scan at most `N` files (0: no limit)")
	fs.IntVar(&o.sample, "sample", defaultSample, fmt.Sprintf("sample `N` rows of each table (1 to %d)", maxSample))
	fs.IntVar(&o.hits, "hits", defaultHits, fmt.Sprintf("show the first `N` values of each kind, masked (0 to %d)", maxHits))
	fs.StringVar(&tables, "tables", "", "scan only these `TABLES` (comma-separated; schema.table for PostgreSQL)")
	fs.StringVar(&kinds, "kinds", "", "look only for these `KINDS` (comma-separated: email, phone, card, ...)")
	fs.Float64Var(&o.minConfidence, "min-confidence", detect.DefaultMinConfidence, "report values found with at least this `CONFIDENCE` (0 to 1]")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (on a terminal), always or never")
	targets, ok, err := parseArgs(fs, args, stdout, scanSynopsis)
	if !ok {
		return err
	}
	if len(targets) == 0 {
		return usagef("wants at least one TARGET: a file, a folder, sqlite:PATH or a postgres:// URL")
	}
	switch {
	case o.maxBytes < 0:
		return usagef("-max-bytes must be 0 or more")
	case o.maxFiles < 0:
		return usagef("-max-files must be 0 or more")
	case o.sample < 1 || o.sample > maxSample:
		return usagef("-sample must be between 1 and %d", maxSample)
	case o.hits < 0 || o.hits > maxHits:
		return usagef("-hits must be between 0 and %d", maxHits)
	case !(o.minConfidence > 0 && o.minConfidence <= 1):
		return usagef("-min-confidence must be in (0, 1]")
	case !slices.Contains([]string{"auto", "always", "never"}, o.progress):
		return usagef("-progress must be auto, always or never")
	}
	for _, name := range splitList(kinds) {
		k, err := detect.ParseKind(name)
		if err != nil {
			return usagef("-kinds: unknown kind (kinds: %s)", kindNames())
		}
		o.kinds = append(o.kinds, k)
	}
	o.tables = splitList(tables)
	d, err := detect.New(detect.Options{Kinds: o.kinds, MinConfidence: o.minConfidence})
	if err != nil {
		return usagef("%v", err)
	}

	parsed := make([]scanTarget, 0, len(targets))
	for _, t := range targets {
		st, err := parseScanTarget(t)
		if err != nil {
			return err
		}
		parsed = append(parsed, st)
	}

	s := &scanner{d: d, opts: o, progress: newProgress(o.progress, stderr)}
	rep := s.run(ctx, parsed)
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := writeScanTable(stdout, rep); err != nil {
		return err
	}
	sum := rep.Summary
	switch {
	case sum.PersonalDataUnsealed:
		return &foundError{files: sum.FilesWithPII, columns: sum.ColumnsUnsealed + sum.ColumnsPartlySealed}
	case sum.Errors > 0:
		return fmt.Errorf("%s while scanning (the report says where)", count(sum.Errors, "error"))
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func kindNames() string {
	var names []string
	for _, k := range detect.Kinds() {
		names = append(names, k.String())
	}
	return strings.Join(names, ", ")
}

// scanTarget is one TARGET of the command line.
type scanTarget struct {
	kind string // "path", "sqlite" or "postgres"
	spec string // the path, or the postgres URL (never printed)
}

// parseScanTarget reads a TARGET. A postgres URL is never quoted in an
// error: it may hold a password.
func parseScanTarget(arg string) (scanTarget, error) {
	scheme, rest, found := strings.Cut(arg, ":")
	if found {
		switch strings.ToLower(scheme) {
		case "sqlite":
			if rest == "" {
				return scanTarget{}, usagef("sqlite: needs a path, as sqlite:/var/lib/app/app.db")
			}
			return scanTarget{kind: "sqlite", spec: rest}, nil
		case "postgres", "postgresql":
			return scanTarget{kind: "postgres", spec: arg}, nil
		}
	}
	return scanTarget{kind: "path", spec: arg}, nil
}

// scanner runs one scan.
type scanner struct {
	d        *detect.Detector
	opts     scanOptions
	progress progress
}

func (s *scanner) run(ctx context.Context, targets []scanTarget) *scanReport {
	rep := &scanReport{Schema: scanSchema, Files: []fileReport{}, Databases: []databaseReport{}, Notes: []string{}}
	var paths []string
	for _, t := range targets {
		if t.kind == "path" {
			paths = append(paths, t.spec)
		}
	}
	if len(paths) > 0 {
		s.scanPaths(ctx, paths, rep)
	}
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		switch t.kind {
		case "sqlite":
			rep.Databases = append(rep.Databases, s.scanSQLite(ctx, t.spec))
		case "postgres":
			rep.Databases = append(rep.Databases, s.scanPostgres(ctx, t.spec))
		}
	}
	rep.Summary = summarize(rep)
	return rep
}

func summarize(rep *scanReport) scanSummary {
	sum := scanSummary{Kinds: map[string]int{}}
	for _, f := range rep.Files {
		switch f.Status {
		case statusPII:
			sum.FilesScanned++
			sum.FilesWithPII++
		case statusClean:
			sum.FilesScanned++
		case statusSkipped:
			sum.FilesSkipped++
		case statusError:
			sum.Errors++
		}
		for _, fd := range f.Findings {
			sum.Kinds[fd.Kind] += fd.Count
		}
	}
	for _, db := range rep.Databases {
		sum.Databases++
		if db.Error != "" {
			sum.Errors++
		}
		for _, t := range db.Tables {
			if t.Error != "" {
				sum.Errors++
				continue
			}
			sum.TablesScanned++
			for _, c := range t.Columns {
				switch c.Status {
				case columnUnsealed:
					sum.ColumnsUnsealed++
				case columnPartlySealed:
					sum.ColumnsPartlySealed++
				case columnSealed:
					sum.ColumnsSealed++
				}
				for _, k := range c.Kinds {
					sum.Kinds[k.Kind] += k.Values
				}
			}
		}
	}
	sum.PersonalDataUnsealed = sum.FilesWithPII+sum.ColumnsUnsealed+sum.ColumnsPartlySealed > 0
	return sum
}
