//go:build !linux

package priv

import (
	"errors"
	"fmt"
	"os"
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

// CreateNew creates path, which must not exist, and never follows a
// symbolic link in its last element.
func CreateNew(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// SudoUser reports no user outside Linux: CreateNew does not change IDs
// there.
func SudoUser() (uid, gid int, ok bool) { return 0, 0, false }
