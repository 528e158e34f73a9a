//go:build !linux

package emulator

import "syscall"

// childAttrs puts a child in its own process group so Stop reaches all of it.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
