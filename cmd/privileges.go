package cmd

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/fastop/fastop/ring/priv"
)

// hardenProcess is set by Main: the process gives up privileges it does
// not need (see limitPrivileges). Tests that run the command in-process
// leave it off, since it would take the capabilities of the test binary.
var hardenProcess atomic.Bool

// liveKeeps is what live capture keeps once its rings are open: the
// member threads open new sockets when the interface is deleted and
// re-created, which needs CAP_NET_RAW. Promiscuous mode is a membership
// of the socket (PACKET_MR_PROMISC), which needs no more than owning it,
// and it ends with the socket; CAP_NET_ADMIN is never needed.
var liveKeeps = []priv.Cap{priv.NetRaw}

// limitPrivileges drops every capability but keep on every thread (see
// priv.Limit), when Main asked for it. With verbose it says on errOut what
// each thread holds afterwards. A cgo build, which cannot do it, warns
// when it holds capabilities it would have dropped.
func limitPrivileges(errOut io.Writer, verbose bool, keep ...priv.Cap) error {
	if !hardenProcess.Load() {
		return nil
	}
	before, _ := priv.Permitted()
	err := priv.Limit(keep...)
	if errors.Is(err, priv.ErrThreads) {
		if prm, perr := priv.Permitted(); perr == nil && prm&^priv.Of(keep...) != 0 {
			fmt.Fprintf(errOut, "fastop: warning: capabilities kept (%s): %v\n", prm, err)
		}
		return nil
	}
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("giving up capabilities: %w", err)
	}
	if verbose {
		reportPrivileges(errOut, before)
	}
	return nil
}

// reportPrivileges writes one line: what every thread holds, or that they
// differ.
func reportPrivileges(errOut io.Writer, before priv.Set) {
	ts, err := priv.Threads()
	if err != nil || len(ts) == 0 {
		fmt.Fprintf(errOut, "fastop: privileges: permitted before: %s; cannot read them now: %v\n", before, err)
		return
	}
	for _, s := range ts[1:] {
		if s != ts[0] {
			fmt.Fprintf(errOut, "fastop: privileges: permitted before: %s; threads differ now: %s; %s\n", before, ts[0], s)
			return
		}
	}
	fmt.Fprintf(errOut, "fastop: privileges: permitted before: %s; now on all %d threads: %s\n", before, len(ts), ts[0])
}

// setNoNewPrivs makes sure nothing fastop runs gains privileges by exec.
func setNoNewPrivs(errOut io.Writer) {
	if err := priv.NoNewPrivs(); err != nil && !errors.Is(err, priv.ErrThreads) && !errors.Is(err, errors.ErrUnsupported) {
		fmt.Fprintf(errOut, "fastop: warning: %v\n", err)
	}
}
