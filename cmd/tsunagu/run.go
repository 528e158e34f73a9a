package main

import (
	"context"
	"errors"
)

// runStack starts the local stack. (Being written: see shared/runtimeapi and shared/gateway.)
func runStack(context.Context, []string) error {
	return errors.New("the local stack is not built yet")
}
