//go:build !linux

package lambdaapi

import "syscall"

// childAttrs puts a process in its own group so signals reach all of it.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
