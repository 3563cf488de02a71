package cluster

import "syscall"

// procAttr puts a child in its own process group, so that a Ctrl-C at the
// terminal reaches only the launcher, which stops the children in order
// (gateway, replicas, then etcd), and has the kernel send it SIGTERM should
// the launcher die without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
