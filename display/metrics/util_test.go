package metrics

import (
	"os"
	"path/filepath"
)

func mkfile(dir, iface, speed string) error {
	if err := os.MkdirAll(filepath.Join(dir, iface), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, iface, "speed"), []byte(speed), 0o644)
}
