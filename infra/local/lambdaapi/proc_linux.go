package lambdaapi

import "syscall"

// childAttrs puts a process in its own group (so signals reach all of it,
// and the terminal's Ctrl-C does not: Stop decides) and has the kernel kill
// it if this process dies without cleaning up.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
