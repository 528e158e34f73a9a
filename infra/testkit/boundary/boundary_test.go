// Package boundary holds the test that keeps the tree honest about what
// ships: the Lambda functions run only shared/ packages (and third-party
// modules), shared/ never imports the local stack or the test kit, and the
// local stack never imports the command line.
package boundary

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/local/project"
)

const module = "github.com/tsunagu-dev/tsunagu/"

// goList runs go list in the project root and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), append([]string{"list"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// outside lists the project packages among pkgs that are not under one of
// the allowed folders (third-party packages are always allowed).
func outside(pkgs []string, allowed ...string) []string {
	var bad []string
	for _, p := range pkgs {
		rel, ours := strings.CutPrefix(p, module)
		if !ours {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || rel == a || strings.HasPrefix(rel, a+"/")
		}
		if !ok {
			bad = append(bad, p)
		}
	}
	return bad
}

// importsOf lists, for each package matching pattern, its non-test imports
// as "package import" pairs.
func importsOf(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range goList(t, "-f", `{{range .Imports}}{{$.ImportPath}}|{{.}} {{end}}`, pattern) {
		pkg, imp, _ := strings.Cut(line, "|")
		out[pkg] = append(out[pkg], imp)
	}
	return out
}

func TestFunctionsRunOnlyShared(t *testing.T) {
	if bad := outside(goList(t, "-deps", "./functions/..."), "functions", "shared"); len(bad) > 0 {
		t.Errorf("the Lambda functions depend on packages outside shared/: %v (move them under shared/, or keep them out of the functions)", bad)
	}
}

func TestLayers(t *testing.T) {
	tests := []struct {
		name, pattern string
		allowed       []string
	}{
		{"shared imports only shared", "./shared/...", []string{"shared"}},
		{"the local stack imports no command", "./infra/local/...", []string{"shared", "infra/local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for pkg, imports := range importsOf(t, tt.pattern) {
				if bad := outside(imports, tt.allowed...); len(bad) > 0 {
					t.Errorf("%s imports %v", pkg, bad)
				}
			}
		})
	}
}

// The checks would see a package in the wrong place.
func TestOutside(t *testing.T) {
	pkgs := []string{module + "shared/store", module + "infra/testkit/testenv", module + "cmd/tsunagu", "github.com/aws/aws-sdk-go-v2/aws", module + "sharedthing"}
	got := outside(pkgs, "shared")
	if want := []string{module + "infra/testkit/testenv", module + "cmd/tsunagu", module + "sharedthing"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("outside = %v, want %v", got, want)
	}
}
