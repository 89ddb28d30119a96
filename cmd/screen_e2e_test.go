package cmd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/pcapfile"
)

// The end-to-end tests run fastop's screen in a real terminal: a detached
// tmux pane of 80x24 on a private tmux server. They send keys with
// send-keys, read the pane with capture-pane, and check after q and after
// SIGTERM that the terminal is back as it was (stty -g before and after,
// the alternate screen left, the cursor shown).
//
// Until run.go wires the screen into the fastop command (runFileScreen),
// the program in the pane is this test binary itself, re-executed as
// TestScreenHelperProcess: fastop's own root command with fastop's option
// parsing and ~/.iftoprc, and runF = runFileScreen.

// e2eRealBinary runs the fastop binary (go build ./cmd/fastop) in the pane
// instead of the helper. Set it once run.go sends -r on a terminal to
// runFileScreen.
const e2eRealBinary = true

const (
	helperEnv     = "FASTOP_SCREEN_HELPER"
	helperArgsEnv = "FASTOP_SCREEN_ARGS" // argv, separated by \x1f
	helperPidEnv  = "FASTOP_SCREEN_PIDFILE"
	doneMark      = "FASTOP-E2E-DONE"
)

// TestScreenHelperProcess is the program the end-to-end tests run in the
// tmux pane; on its own it does nothing.
func TestScreenHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("the program TestScreenE2E runs in a tmux pane")
	}
	if p := os.Getenv(helperPidEnv); p != "" {
		os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	// What Main does, with the monitor replaced by a file replay on the
	// screen.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	streams := IO{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	root := NewRootCommand(streams, func(ctx context.Context, o *Options) error {
		return runFileScreen(ctx, o, streams)
	})
	root.SetArgs(strings.Split(os.Getenv(helperArgsEnv), "\x1f"))
	err := root.ExecuteContext(ctx)
	os.Exit(exitStatus(err, ctx, streams.ErrOut))
}

// writeReplayFile writes 20 s of raw-IP traffic:
//
//	10.0.0.1:40000 → 10.0.0.2:80  TCP, 100 packets/s of 1250 bytes (1 Mbit/s)
//	10.0.0.2:80 → 10.0.0.1:40000  TCP, 10 packets/s of 100 bytes
//	10.0.0.1:5353 → 10.0.0.3:53   UDP, 5 packets/s of 200 bytes
//
// With -F 10.0.0.1/32, TX is 20 × 126000 bytes (2.40MB) and RX 20 × 1000
// (19.5KB).
func writeReplayFile(t *testing.T, path string) {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	bw := bufio.NewWriter(out)
	w, err := pcapfile.NewWriter(bw, decode.LinkRaw, 0)
	if err != nil {
		t.Fatal(err)
	}
	packet := func(src, dst [4]byte, sport, dport uint16, proto uint8, size int) []byte {
		p := make([]byte, size)
		p[0] = 0x45
		binary.BigEndian.PutUint16(p[2:], uint16(size))
		p[8] = 64
		p[9] = proto
		copy(p[12:], src[:])
		copy(p[16:], dst[:])
		binary.BigEndian.PutUint16(p[20:], sport)
		binary.BigEndian.PutUint16(p[22:], dport)
		if proto == 6 {
			p[32] = 5 << 4 // data offset
		} else {
			binary.BigEndian.PutUint16(p[24:], uint16(size-20))
		}
		return p
	}
	a, b, c := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, [4]byte{10, 0, 0, 3}
	type stream struct {
		pkt  []byte
		rate int // packets per second
	}
	streams := []stream{
		{packet(a, b, 40000, 80, 6, 1250), 100},
		{packet(b, a, 80, 40000, 6, 100), 10},
		{packet(a, c, 5353, 53, 17, 200), 5},
	}
	const t0 = int64(1_700_000_000) * 1e9
	// Every 10 ms, in time order.
	for ms := int64(0); ms < 20_000; ms += 10 {
		for _, s := range streams {
			if every := int64(1000 / s.rate); ms%every == 0 {
				if err := w.WriteRecord(t0+ms*1e6, s.pkt, uint32(len(s.pkt))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// tmuxPane is a detached tmux session on a private server.
type tmuxPane struct {
	t    *testing.T
	sock string
	dir  string
}

func tmuxPath(t *testing.T) string {
	p, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux runs the end-to-end screen tests: apt-get install tmux (.ci/run installs it)")
	}
	return p
}

// startPane starts the helper with args in an 80x24 pane, inside a shell
// that saves the terminal mode before and after it, and its exit status.
func startPane(t *testing.T, args []string, env ...string) *tmuxPane {
	t.Helper()
	return startPaneWith(t, paneOptions{}, args, env...)
}

// paneOptions change how startPaneWith runs fastop.
type paneOptions struct {
	tags  string // go build -tags for the binary
	netns string // run it in this network namespace (ip netns exec)
}

func startPaneWith(t *testing.T, po paneOptions, args []string, env ...string) *tmuxPane {
	t.Helper()
	tmuxPath(t)
	dir := t.TempDir()
	p := &tmuxPane{t: t, sock: fmt.Sprintf("fastop-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), dir: dir}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	prog := self + " -test.run='^TestScreenHelperProcess$'"
	if e2eRealBinary {
		bin := filepath.Join(dir, "fastop")
		if out, err := exec.Command("go", "build", "-tags", po.tags, "-o", bin, "github.com/fastop/fastop/cmd/fastop").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v: %s", err, out)
		}
		prog = bin
		for _, a := range args {
			prog += " '" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		// The binary does not write a pid file as the helper does: a
		// wrapper records its own pid, then becomes fastop.
		wrapper := filepath.Join(dir, "run.sh")
		if err := os.WriteFile(wrapper, []byte("echo $$ > "+filepath.Join(dir, "pid")+"\nexec "+prog+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		prog = "sh " + wrapper
		if po.netns != "" {
			prog = "ip netns exec " + po.netns + " " + prog
		}
	}
	script := fmt.Sprintf("stty -g > %[1]s/before; %[2]s 2>%[1]s/stderr; echo $? > %[1]s/rc; stty -g > %[1]s/after; echo %[3]s; exec sleep 600",
		dir, prog, doneMark)
	cmdArgs := []string{"-L", p.sock, "-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24",
		"-e", helperEnv + "=1",
		"-e", helperArgsEnv + "=" + strings.Join(args, "\x1f"),
		"-e", helperPidEnv + "=" + filepath.Join(dir, "pid"),
		"-e", "HOME=" + dir,
		"-e", "LANG=C.UTF-8",
	}
	for _, e := range env {
		cmdArgs = append(cmdArgs, "-e", e)
	}
	cmdArgs = append(cmdArgs, script)
	if out, err := exec.Command("tmux", cmdArgs...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", p.sock, "kill-server").Run()
	})
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", p.sock}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

// screen returns the pane's rows.
func (p *tmuxPane) screen() []string {
	p.t.Helper()
	return strings.Split(strings.TrimSuffix(p.tmux("capture-pane", "-p", "-t", "e2e"), "\n"), "\n")
}

// waitFor polls the pane until ok holds, or fails after 20 s with the pane.
func (p *tmuxPane) waitFor(what string, ok func(rows []string) bool) []string {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows := p.screen()
		if ok(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			stderr, _ := os.ReadFile(filepath.Join(p.dir, "stderr"))
			p.t.Fatalf("timed out waiting for %s; the pane shows:\n%s\nstderr: %s", what, strings.Join(rows, "\n"), stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *tmuxPane) keys(keys ...string) {
	p.t.Helper()
	p.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...)
}

// pid returns fastop's process id.
func (p *tmuxPane) pid() int {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, "pid"))
	if err != nil {
		p.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		p.t.Fatal(err)
	}
	return pid
}

// kill sends sig to fastop.
func (p *tmuxPane) kill(sig syscall.Signal) {
	p.t.Helper()
	if err := syscall.Kill(p.pid(), sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		p.t.Fatal(err)
	}
}

// stderr returns what fastop wrote to stderr.
func (p *tmuxPane) stderr() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "stderr"))
	return string(b)
}

// format returns a tmux format variable of the pane, e.g. alternate_on.
func (p *tmuxPane) format(name string) string {
	p.t.Helper()
	return strings.TrimSpace(p.tmux("display-message", "-p", "-t", "e2e", "#{"+name+"}"))
}

// checkRestored waits for the helper to exit and checks the terminal:
// the exit status, the mode (stty -g before = after), the main screen, a
// visible cursor.
func (p *tmuxPane) checkRestored(wantRC string) {
	p.t.Helper()
	p.waitFor("the program to exit", func(rows []string) bool {
		return strings.Contains(strings.Join(rows, "\n"), doneMark)
	})
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(p.dir, name))
		if err != nil {
			p.t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if rc := read("rc"); rc != wantRC {
		p.t.Errorf("exit status %s, want %s; stderr: %s", rc, wantRC, read("stderr"))
	}
	if before, after := read("before"), read("after"); before != after {
		p.t.Errorf("terminal mode not restored:\nbefore %s\nafter  %s", before, after)
	}
	if v := p.format("alternate_on"); v != "0" {
		p.t.Errorf("alternate_on = %s after exit, want 0", v)
	}
	if v := p.format("cursor_flag"); v != "1" {
		p.t.Errorf("cursor_flag = %s after exit, want 1 (cursor shown)", v)
	}
	for _, l := range p.screen() {
		if strings.Contains(l, "TOTAL:") {
			p.t.Errorf("the fastop screen is still visible after exit: %q", l)
		}
	}
}

// replayArgs are the options of the end-to-end runs.
func replayArgs(t *testing.T, extra ...string) []string {
	file := filepath.Join(t.TempDir(), "replay.pcap")
	writeReplayFile(t, file)
	return append([]string{"-r", file, "-F", "10.0.0.1/32", "-n", "-N", "-P", "--speed", "40"}, extra...)
}

func hasRow(rows []string, prefix string) bool {
	for _, r := range rows {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

// finished reports that the replay ended: the end-of-file hint and the
// totals of the whole file.
func finished(rows []string) bool {
	return len(rows) == 24 && strings.HasPrefix(rows[0], " End of ") && strings.HasPrefix(rows[21], "TX:") && strings.Contains(rows[21], "cum:   2.40MB") &&
		strings.Contains(rows[22], "19.5KB") && strings.Contains(rows[23], "2.42MB")
}

func TestScreenE2EKeys(t *testing.T) {
	p := startPane(t, replayArgs(t))
	rows := p.waitFor("the replay to finish", finished)

	if !strings.HasPrefix(rows[1], "└") || !strings.Contains(rows[1], "┴") {
		t.Errorf("scale rule = %q, want iftop's └───┴ in a UTF-8 locale", rows[1])
	}
	// Both pairs, local side on the left (-F), ports numeric (-N -P).
	if !hasRow(rows, "10.0.0.1:40000             => 10.0.0.2:80 ") || !hasRow(rows, "10.0.0.1:5353              => 10.0.0.3:53 ") {
		t.Errorf("host pairs missing:\n%s", strings.Join(rows, "\n"))
	}
	if strings.Count(strings.Join(rows, "\n"), " <= ") != 2 {
		t.Errorf("want two <= rows (two-line mode):\n%s", strings.Join(rows, "\n"))
	}

	// T: the cumulative column, hosts 22 wide, 2.38MB sent by the big flow.
	p.keys("T")
	rows = p.waitFor("the cumulative column", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Show cumulative totals ") && hasRow(rows, "10.0.0.1:40000         => 10.0.0.2:80 ")
	})
	for _, r := range rows {
		if strings.HasPrefix(r, "10.0.0.1:40000 ") && strings.TrimSpace(r[48:56]) != "2.38MB" {
			t.Errorf("cumulative sent = %q, want 2.38MB at column 48: %q", r[48:56], r)
		}
	}

	// t: one line per host pair.
	p.keys("t")
	rows = p.waitFor("one line per host", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " One line per host ") && hasRow(rows, "10.0.0.1:40000        <=> 10.0.0.2:80 ")
	})
	if strings.Contains(strings.Join(rows[2:20], "\n"), " <= ") {
		t.Errorf("a <= row is left in one-line mode:\n%s", strings.Join(rows, "\n"))
	}

	// P: paused, and says so until another message.
	p.keys("P")
	p.waitFor("the pause hint", func(rows []string) bool { return strings.HasPrefix(rows[0], " Display paused ") })

	// f: a bad filter says why and keeps the old one; a good one is installed.
	p.keys("f")
	p.waitFor("the filter prompt", func(rows []string) bool { return strings.HasPrefix(rows[0], "Net filter>") })
	p.keys("tcp and and", "Enter")
	rows = p.waitFor("the filter error", func(rows []string) bool {
		return !strings.HasPrefix(rows[0], "Net filter>") && !strings.HasPrefix(rows[0], " Display paused ")
	})
	t.Logf("filter error hint: %q", rows[0])
	if strings.Contains(rows[0], "Installed") {
		t.Errorf("a bad filter was installed: %q", rows[0])
	}
	p.keys("f", "C-u", "udp", "Enter")
	p.waitFor("the new filter", func(rows []string) bool { return strings.HasPrefix(rows[0], " Installed new filter ") })

	// An unknown key.
	p.keys("Z")
	p.waitFor("the help hint", func(rows []string) bool { return strings.HasPrefix(rows[0], " Press H or ? for help ") })

	// Resize: drawn again at the new size at once; below 40x10 a notice.
	p.tmux("resize-window", "-t", "e2e", "-x", "100", "-y", "30")
	p.waitFor("the 100x30 layout", func(rows []string) bool {
		return len(rows) == 30 && strings.HasPrefix(rows[29], "TOTAL:") && strings.Contains(rows[27], "rates:") && strings.Index(rows[27], "rates:") == 68
	})
	p.tmux("resize-window", "-t", "e2e", "-x", "30", "-y", "8")
	p.waitFor("the too-small notice", func(rows []string) bool {
		return strings.HasPrefix(rows[0], "terminal too small") && strings.TrimSpace(strings.Join(rows[1:], "")) == ""
	})
	p.tmux("resize-window", "-t", "e2e", "-x", "80", "-y", "24")
	p.waitFor("the 80x24 layout again", func(rows []string) bool { return len(rows) == 24 && strings.HasPrefix(rows[23], "TOTAL:") })

	p.keys("q")
	p.checkRestored("0")
}

// TestScreenE2ESignals checks that SIGTERM and Ctrl-C restore the terminal.
func TestScreenE2ESignals(t *testing.T) {
	t.Run("SIGTERM", func(t *testing.T) {
		p := startPane(t, replayArgs(t))
		p.waitFor("the screen", finished)
		p.kill(syscall.SIGTERM)
		p.checkRestored("130")
	})
	// SIGQUIT: the terminal first, then Go's goroutine dump and status 2.
	t.Run("SIGQUIT", func(t *testing.T) {
		p := startPane(t, replayArgs(t))
		p.waitFor("the screen", finished)
		p.kill(syscall.SIGQUIT)
		p.checkRestored("2")
		if s := p.stderr(); !strings.Contains(s, "SIGQUIT: quit") || !strings.Contains(s, "goroutine ") {
			t.Errorf("no goroutine dump on stderr: %q", s)
		}
	})
	t.Run("CtrlC", func(t *testing.T) {
		p := startPane(t, replayArgs(t))
		p.waitFor("the screen", finished)
		p.keys("C-c")
		p.checkRestored("0")
	})
}

// TestScreenE2ERC checks ~/.iftoprc end to end: the file sets the screen's
// starting state, and the command line still wins.
func TestScreenE2ERC(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "rc")
	os.WriteFile(rc, []byte("line-display: one-line-sent\nshow-totals: yes\nport-resolution: yes # -N wins\n"), 0o644)
	p := startPane(t, replayArgs(t, "-c", rc))
	rows := p.waitFor("the screen", finished)
	if rows[2][:37] != "10.0.0.1:40000         => 10.0.0.2:80" || strings.TrimSpace(rows[2][48:56]) != "2.38MB" || rows[3] == "" || strings.Contains(rows[3], "<=") {
		t.Errorf("want sent-only rows with the cumulative column:\n%s", strings.Join(rows, "\n"))
	}
	if strings.Contains(strings.Join(rows, "\n"), ":http") {
		t.Errorf("-N on the command line lost to the rc file:\n%s", strings.Join(rows, "\n"))
	}
	p.keys("q")
	p.checkRestored("0")
}

// TestScreenNoTerminal runs the screen in a process with no controlling
// terminal (a new session): it fails with one line and status 1, and
// writes nothing to stdout.
func TestScreenNoTerminal(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^TestScreenHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperArgsEnv+"="+strings.Join(replayArgs(t), "\x1f"), "HOME="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v; stderr %q", err, stderr.String())
	}
	want := "fastop: open the terminal: open /dev/tty: no such device or address (the full screen needs one; use -t or --json)\n"
	if stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("stderr %q, stdout %q; want stderr %q", stderr.String(), stdout.String(), want)
	}
}

// TestScreenE2ESuspend checks Ctrl-Z as iftop has it: fastop stops, the
// shell's screen and terminal mode are back while it is stopped, and once
// continued (what fg does: SIGCONT) the screen is drawn again in full.
func TestScreenE2ESuspend(t *testing.T) {
	p := startPane(t, replayArgs(t))
	p.waitFor("the screen", finished)
	pid := p.pid()
	p.keys("C-z")
	deadline := time.Now().Add(20 * time.Second)
	for procState(t, pid) != "T" {
		if time.Now().After(deadline) {
			t.Fatalf("fastop did not stop on Ctrl-Z (state %s); the pane shows:\n%s", procState(t, pid), strings.Join(p.screen(), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	before, err := os.ReadFile(filepath.Join(p.dir, "before"))
	if err != nil {
		t.Fatal(err)
	}
	// tmux reads the pane's output on its own time: wait for the shell's
	// screen, cursor and mode.
	var alt, cursor, mode string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		alt, cursor, mode = p.format("alternate_on"), p.format("cursor_flag"), ttyMode(t, p.format("pane_tty"))
		if alt == "0" && cursor == "1" && mode == strings.TrimSpace(string(before)) {
			break
		}
	}
	if alt != "0" || cursor != "1" {
		t.Errorf("while stopped: alternate_on = %s, cursor_flag = %s; want 0 and 1", alt, cursor)
	}
	if mode != strings.TrimSpace(string(before)) {
		t.Errorf("terminal mode while stopped:\n%s\nwant the shell's\n%s", mode, before)
	}
	p.kill(syscall.SIGCONT)
	p.waitFor("the screen again", func(rows []string) bool { return finished(rows) && p.format("alternate_on") == "1" })
	if mode := ttyMode(t, p.format("pane_tty")); mode == strings.TrimSpace(string(before)) {
		t.Error("the terminal is not in raw mode again after SIGCONT")
	}
	p.keys("q")
	p.checkRestored("0")
}

// procState returns the state letter of /proc/PID/stat (T: stopped).
func procState(t *testing.T, pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		t.Fatalf("bad stat %q", s)
	}
	return s[i+2 : i+3]
}

// ttyMode returns stty -g of the terminal at path.
func ttyMode(t *testing.T, path string) string {
	out, err := exec.Command("stty", "-g", "-F", path).CombinedOutput()
	if err != nil {
		t.Fatalf("stty -F %s: %v: %s", path, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestScreenE2EPanic makes a goroutine other than the screen's panic (a
// binary built with -tags fastop_crashtest panics where $FASTOP_CRASH says,
// once the file $FASTOP_CRASH_ARM exists): the terminal is restored, then
// Go prints the panic and fastop exits with status 2. The file replay's
// dispatcher and workers run under a file; the ring reader and the merger
// under a live capture on lo in a test namespace.
func TestScreenE2EPanic(t *testing.T) {
	for _, where := range []string{"replay", "file-worker", "reader", "merger"} {
		t.Run(where, func(t *testing.T) {
			arm := filepath.Join(t.TempDir(), "arm")
			po := paneOptions{tags: "fastop_crashtest"}
			var args []string
			var ns *netns.NS
			ready := func(rows []string) bool {
				return hasRow(rows, "10.0.0.1:40000 ") && len(rows) == 24 && strings.HasPrefix(rows[23], "TOTAL:")
			}
			switch where {
			case "replay", "file-worker":
				// At speed 1 the replay lasts 20 s: the crash is armed while
				// it runs.
				args = replayArgs(t, "--speed", "1", "--workers", "2")
			default:
				ns = netns.NewT(t)
				if out, err := exec.Command("ip", "-n", ns.Name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
					t.Fatalf("ip link set lo up: %v: %s", err, out)
				}
				po.netns = ns.Name
				args = []string{"-i", "lo", "-n", "-N"}
				ready = func(rows []string) bool { return len(rows) == 24 && strings.HasPrefix(rows[23], "TOTAL:") }
			}
			p := startPaneWith(t, po, args, "FASTOP_CRASH="+where, "FASTOP_CRASH_ARM="+arm)
			p.waitFor("the screen", ready)
			if v := p.format("alternate_on"); v != "1" {
				t.Fatalf("alternate_on = %s with the screen up", v)
			}
			if err := os.WriteFile(arm, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if po.netns != "" {
				// The reader waits for a block: give it packets, on lo in
				// the test namespace.
				stop := make(chan struct{})
				defer close(stop)
				go sendLoopback(t, ns, stop)
			}
			p.checkRestored("2")
			if s := p.stderr(); !strings.Contains(s, "panic: crash test: a panic in the "+where+" goroutine") {
				t.Errorf("stderr does not show the panic: %q", s)
			}
		})
	}
}

// sendLoopback sends a UDP datagram to 127.0.0.1:9 every 20 ms inside ns
// until stop closes (the socket belongs to the namespace it was made in).
func sendLoopback(t *testing.T, ns *netns.NS, stop <-chan struct{}) {
	var conn net.Conn
	if err := ns.Do(func() (err error) {
		conn, err = net.Dial("udp", "127.0.0.1:9")
		return err
	}); err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	for {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
			conn.Write([]byte("x"))
		}
	}
}
