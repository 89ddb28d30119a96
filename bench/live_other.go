//go:build !linux

package bench

import (
	"context"
	"fmt"
	"runtime"

	"github.com/fastop/fastop/ring/afpacket"
)

// Live runs the live benchmark; it needs Linux (network namespaces, veth
// pairs and AF_PACKET rings), so elsewhere it fails with an error wrapping
// afpacket.ErrNotSupported.
func Live(ctx context.Context, o LiveOptions) (LiveResult, error) {
	return LiveResult{}, fmt.Errorf("live benchmark: needs Linux (this is %s): %w", runtime.GOOS, afpacket.ErrNotSupported)
}
