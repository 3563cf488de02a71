//go:build !linux

package cluster

import "syscall"

// procAttr puts a child in its own process group, so that a Ctrl-C at the
// terminal reaches only the launcher, which stops the children in order.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
