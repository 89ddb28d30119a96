//go:build !linux

package priv

import (
	"errors"
	"fmt"
)

// Capabilities and no_new_privs are Linux's.
var errNotLinux = fmt.Errorf("privileges: %w outside Linux", errors.ErrUnsupported)

// NoNewPrivs does nothing outside Linux.
func NoNewPrivs() error { return errNotLinux }

// Limit does nothing outside Linux.
func Limit(keep ...Cap) error { return errNotLinux }

// Threads has nothing to read outside Linux.
func Threads() ([]Status, error) { return nil, errNotLinux }

// Permitted is empty outside Linux.
func Permitted() (Set, error) { return 0, errNotLinux }
