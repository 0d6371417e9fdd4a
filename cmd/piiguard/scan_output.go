package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// writeScanTable writes the report as aligned tables: the files with
// personal data (a row per kind), the columns that hold it or are sealed,
// the notes and errors, and a summary line. Clean files and columns are
// counted in the summary only; -json lists them.
func writeScanTable(w io.Writer, rep *scanReport) error {
	ew := &errWriter{w: w}
	var found bool
	for _, f := range rep.Files {
		if len(f.Findings) > 0 {
			found = true
		}
	}
	if found {
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FILE\tKIND\tCOUNT\tFIRST (line: masked value)")
		for _, f := range rep.Files {
			for _, fd := range f.Findings {
				var first []string
				for _, h := range fd.First {
					first = append(first, fmt.Sprintf("%d: %s", h.Line, h.Masked))
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", f.Path, fd.Kind, fd.Count, strings.Join(first, ", "))
			}
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}

	var columns bool
	for _, db := range rep.Databases {
		for _, t := range db.Tables {
			for _, c := range t.Columns {
				if c.Status != columnClean {
					columns = true
				}
			}
		}
	}
	if columns {
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DATABASE\tTABLE\tCOLUMN\tSTATUS\tVALUES\tSEALED\tWITH PII\tKINDS\tEXAMPLES (masked)")
		for _, db := range rep.Databases {
			for _, t := range db.Tables {
				for _, c := range t.Columns {
					if c.Status == columnClean {
						continue
					}
					var kinds []string
					for _, k := range c.Kinds {
						kinds = append(kinds, fmt.Sprintf("%s %d", k.Kind, k.Values))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", db.Database, t.Table, c.Name, c.Status,
						c.Values, c.Sealed, c.WithPII, dash(strings.Join(kinds, ", ")), dash(strings.Join(c.Examples, ", ")))
				}
			}
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}

	var notes []string
	notes = append(notes, rep.Notes...)
	for _, f := range rep.Files {
		if f.Error != "" {
			notes = append(notes, f.Path+": error: "+f.Error)
		}
		for _, n := range f.Notes {
			notes = append(notes, f.Path+": "+n)
		}
	}
	for _, db := range rep.Databases {
		if db.Error != "" {
			notes = append(notes, db.Database+": error: "+db.Error)
		}
		for _, t := range db.Tables {
			if t.Error != "" {
				notes = append(notes, db.Database+": table "+t.Table+": error: "+t.Error)
			}
			for _, n := range t.Notes {
				notes = append(notes, db.Database+": table "+t.Table+": "+n)
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(ew, "Notes:")
		for _, n := range notes {
			fmt.Fprintln(ew, "  "+n)
		}
		fmt.Fprintln(ew)
	}
	fmt.Fprintln(ew, summaryLine(rep.Summary))
	return ew.err
}

// summaryLine is the last line of the table output.
func summaryLine(s scanSummary) string {
	var parts []string
	if s.FilesScanned+s.FilesSkipped > 0 || s.Databases == 0 {
		parts = append(parts, fmt.Sprintf("%s scanned, %d with personal data, %d skipped",
			count(s.FilesScanned, "file"), s.FilesWithPII, s.FilesSkipped))
	}
	if s.Databases > 0 {
		parts = append(parts, fmt.Sprintf("%s, %s sampled: %s unsealed, %d partly sealed, %d sealed",
			count(s.Databases, "database"), count(s.TablesScanned, "table"),
			count(s.ColumnsUnsealed, "column"), s.ColumnsPartlySealed, s.ColumnsSealed))
	}
	if s.Errors > 0 {
		parts = append(parts, count(s.Errors, "error"))
	}
	line := strings.Join(parts, "; ")
	if s.PersonalDataUnsealed {
		return line + ". Personal data found unsealed."
	}
	return line + ". No personal data found unsealed."
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first error of a series of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
