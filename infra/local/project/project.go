// Package project locates the tsunagu checkout on disk, so commands and
// tests find template.yaml, rules/ and infra/ wherever they run from.
package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Root returns the nearest directory at or above the working directory that
// holds both go.mod and template.yaml.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find project root: %w", err)
	}
	for {
		if isRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find project root: no directory with go.mod and template.yaml above the working directory; run from the tsunagu checkout")
		}
		dir = parent
	}
}

func isRoot(dir string) bool {
	for _, f := range []string{"go.mod", "template.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}
