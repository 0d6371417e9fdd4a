package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/piiguard/piiguard/kms/localkey"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // the operation failed
	exitUsage   = 2 // the command line is wrong, or a confirmation is missing
	programName = "piiguard"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&cli{}).exec(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// cli holds what the commands share. The zero value is the production
// configuration.
type cli struct {
	// localOptions is used by keys init to create a root key file. Tests set
	// InsecureFastKDFForTests, which the local: URI cannot reach (and must
	// not: a command line has no business making weak key files).
	localOptions localkey.Options
}

// commandFunc is the shape of every command: it reads its arguments (the
// command name excluded), writes its results to stdout and its progress or
// diagnostics to stderr, and returns an error for exec to print. An error
// wrapping a *usageError means the command line was wrong.
type commandFunc func(c *cli, ctx context.Context, args []string, stdout, stderr io.Writer) error

// exec runs the command line args (without the program name) and returns
// the exit code. Errors are printed to stderr, once, prefixed with the
// program and command name.
func (c *cli) exec(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := c.run(ctx, args, stdout, stderr)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", programName, err)
	code := exitCode(err)
	if code == exitUsage {
		fmt.Fprintf(stderr, "Run '%s help' for usage.\n", programName)
	}
	return code
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	var u *usageError
	var found *foundError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &found):
		return exitFound
	default:
		return exitFailed
	}
}

// run dispatches args to a command.
func (c *cli) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		io.WriteString(stderr, usageText)
		return usagef("no command given")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		io.WriteString(stdout, usageText)
		return nil
	case "keys":
		return c.dispatch(ctx, "keys", keysCommands, args[1:], stdout, stderr)
	case "audit":
		return c.dispatch(ctx, "audit", auditCommands, args[1:], stdout, stderr)
	case "scan":
		return c.scan(ctx, args[1:], stdout, stderr)
	}
	// Arguments are not echoed: one may be a secret pasted in the wrong place.
	return usagef("unknown command (commands: keys, audit, scan, help)")
}

func (c *cli) dispatch(ctx context.Context, group string, cmds map[string]commandFunc, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		io.WriteString(stdout, usageText)
		if len(args) == 0 {
			return usagef("%s: no subcommand given", group)
		}
		return nil
	}
	f, ok := cmds[args[0]]
	if !ok {
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		slices.Sort(names)
		return usagef("unknown command %s … (commands: %s)", group, strings.Join(names, ", "))
	}
	if err := f(c, ctx, args[1:], stdout, stderr); err != nil {
		return fmt.Errorf("%s %s: %w", group, args[0], err)
	}
	return nil
}

// usageError is a wrong command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// newFlagSet returns a flag set that reports its errors to its caller
// instead of printing them, so that exec prints each error once.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional arguments. "--" ends
// the flags. ok is false when the command should stop: after printing its
// help for -h (err nil), or on a bad flag (err a *usageError).
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, synopsis string) (pos []string, ok bool, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "Usage: %s %s %s\n", programName, fs.Name(), synopsis)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return nil, false, nil
			}
			return nil, false, flagError(fs, err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), true, nil
		}
		if len(rest) == 0 {
			return pos, true, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments; names lists them for
// the message ("NAME KEYID").
func wantArgs(pos []string, names string) error {
	want := len(strings.Fields(names))
	if len(pos) != want {
		if want == 0 {
			return usagef("takes no arguments, got %d", len(pos))
		}
		return usagef("wants %s (%s), got %d", names, count(want, "argument"), len(pos))
	}
	return nil
}

// count writes n and a noun, in the plural unless n is 1: "1 keyset",
// "0 keysets", "2 keysets". The nouns of this program take an s.
func count[N ~int | ~int64 | ~uint64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// flagErrorRE matches the errors of package flag that name a defined flag.
var flagErrorRE = regexp.MustCompile(`^(?:invalid (?:boolean )?value .* for (?:flag )?-([A-Za-z0-9-]+): (.*)|flag needs an argument: -([A-Za-z0-9-]+))$`)

// flagError rewrites an error of package flag without the value or the
// unknown flag it quotes, which may be a secret pasted in the wrong place.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if m := flagErrorRE.FindStringSubmatch(msg); m != nil {
		if m[3] != "" {
			return usagef("flag -%s needs a value", m[3])
		}
		if fs.Lookup(m[1]) != nil {
			return usagef("invalid value for -%s: %s", m[1], m[2])
		}
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
	if strings.HasPrefix(msg, "flag provided but not defined") {
		return usagef("unknown flag (flags of %s: %s)", fs.Name(), strings.Join(names, ", "))
	}
	return usagef("bad flag (flags of %s: %s)", fs.Name(), strings.Join(names, ", "))
}
