package piiguard_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMakeTestSaysWhatItIsDoing: `make test` runs quiet steps (go vet
// prints nothing for tens of seconds); each step is announced by a line
// first.
func TestMakeTestSaysWhatItIsDoing(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "-n", "GO=go", "test") // -n: print, do not run
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAKE") && !strings.HasPrefix(kv, "MFLAGS=") {
			cmd.Env = append(cmd.Env, kv) // not a make running this test
		}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	step := regexp.MustCompile(`^(go (vet|test)\b|out=\$\(gofmt )`)
	steps := 0
	for i, l := range lines {
		if !step.MatchString(l) {
			continue
		}
		steps++
		if assert.Greater(t, i, 0, "%q is announced", l) {
			assert.True(t, strings.HasPrefix(lines[i-1], `echo "== `), "%q is announced by an echo line, not %q", l, lines[i-1])
		}
	}
	assert.Equal(t, 5, steps, "go vet, go vet -tags integration, go vet -vettool=piiguardvet, gofmt, go test:\n%s", out)
}
