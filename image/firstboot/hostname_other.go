//go:build !linux

package firstboot

import "errors"

func setHostname(string) error { return errors.New("setting the hostname needs Linux") }
