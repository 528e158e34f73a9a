package emulator

import "syscall"

// childAttrs puts a child in its own process group (so Stop reaches all of
// it) and has the kernel stop it if this process dies without cleaning up.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
