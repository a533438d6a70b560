package pgserver

import (
	"strconv"
	"syscall"
)

var sigZero = syscall.Signal(0)

func itoa(n int) string { return strconv.Itoa(n) }
