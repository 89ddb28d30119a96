package cmd

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/ring/priv"
)

// privRig is a fastop binary built without cgo (as `make build` builds
// it) in a directory every user may enter, with a copy that carries file
// capabilities, and a capture file.
type privRig struct {
	dir, plain, capped, pcap string
}

func newPrivRig(t *testing.T) *privRig {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: setting file capabilities and running as nobody needs root")
	}
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Fatalf("setcap (libcap2-bin) is needed to test privileges: %v", err)
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) is needed to test privileges: %v", err)
	}
	dir, err := os.MkdirTemp("", "fastop-priv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &privRig{dir: dir, plain: filepath.Join(dir, "fastop"), capped: filepath.Join(dir, "fastop-caps"), pcap: filepath.Join(dir, "f.pcap")}
	build := exec.Command("go", "build", "-o", r.plain, "github.com/fastop/fastop/cmd/fastop")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	b, err := os.ReadFile(r.plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.capped, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(setcap, "cap_net_raw,cap_net_admin+ep", r.capped).CombinedOutput(); err != nil {
		t.Fatalf("setcap: %v: %s", err, out)
	}
	pc, err := os.ReadFile("../ring/pcapfile/testdata/le-usec.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.pcap, pc, 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

// asNobody returns args that run argv as user nobody without inherited
// capabilities: what an ordinary user running a setcap'd fastop gets.
func asNobody(argv ...string) []string {
	return append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"}, argv...)
}

// privLine returns fastop -v's line about its privileges.
func privLine(t *testing.T, stderr string) string {
	t.Helper()
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(line, "fastop: privileges: ") {
			return line
		}
	}
	t.Fatalf("no privileges line in stderr:\n%s", stderr)
	return ""
}

// TestPrivilegesDropped: -r and -d open no socket, so fastop gives up
// every capability on every thread, whether a user runs the setcap'd copy
// or root runs it; no_new_privs is always set. The process reads its own
// /proc/self/task/*/status after dropping and -v prints it.
func TestPrivilegesDropped(t *testing.T) {
	r := newPrivRig(t)
	tests := []struct {
		name   string
		argv   []string
		before string // what was permitted before (the check is not vacuous)
		bnd    string // the bounding set after
	}{
		{"nobody -r", asNobody(r.capped, "-v", "-t", "-r", r.pcap), "CAP_NET_RAW and CAP_NET_ADMIN", "CAP_NET_RAW and CAP_NET_ADMIN and "},
		{"nobody -d", asNobody(r.capped, "-v", "-d", "-f", "tcp port 80"), "CAP_NET_RAW and CAP_NET_ADMIN", "CAP_NET_RAW and CAP_NET_ADMIN and "},
		{"root -r", []string{r.plain, "-v", "-t", "-r", r.pcap}, "CAP_NET_RAW and CAP_NET_ADMIN and ", "none"},
		{"root -d", []string{r.plain, "-v", "-d"}, "CAP_NET_RAW and CAP_NET_ADMIN and ", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(tt.argv[0], tt.argv[1:]...)
			cmd.Dir = r.dir
			cmd.Env = append(os.Environ(), "HOME="+r.dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%v: %v\n%s", tt.argv, err, stderr.String())
			}
			if stdout.Len() == 0 {
				t.Errorf("no output on stdout")
			}
			line := privLine(t, stderr.String())
			if !strings.Contains(line, "permitted before: "+tt.before) {
				t.Errorf("%s\nwant permitted before: %s…", line, tt.before)
			}
			want := "effective none, permitted none, inheritable none, ambient none, bounding " + tt.bnd
			if !strings.Contains(line, "now on all ") || !strings.Contains(line, want) || !strings.HasSuffix(line, "no_new_privs true") {
				t.Errorf("%s\nwant every thread with %s…, no_new_privs true", line, want)
			}
		})
	}
}

// threadsOf reads the privileges of every thread of the processes running
// exe.
func threadsOf(t *testing.T, exe string) []priv.Status {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var out []priv.Status
	for _, p := range procs {
		if e, err := os.Readlink(p + "/exe"); err != nil || e != exe {
			continue
		}
		tasks, _ := filepath.Glob(p + "/task/[0-9]*")
		for _, task := range tasks {
			b, err := os.ReadFile(task + "/status")
			if err != nil {
				continue
			}
			s, err := priv.ParseStatus(string(b))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	return out
}

// TestPrivilegesLive: once its rings are open, a live capture keeps only
// CAP_NET_RAW (to open sockets again when the interface is re-created), on
// every thread, read from outside in /proc while it runs; -p still puts
// the interface in promiscuous mode and the mode ends with the run.
func TestPrivilegesLive(t *testing.T) {
	r := newPrivRig(t)
	tests := []struct {
		name, exe string
		nobody    bool
		bnd       priv.Set
	}{
		{"nobody", r.capped, true, 0}, // 0: the bounding set stays as it was
		{"root", r.plain, false, priv.Of(priv.NetRaw)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := netns.NewT(t)
			peer := netns.NewT(t)
			v := netns.NewVethT(t, peer, ns)
			argv := []string{tt.exe, "-v", "-t", "-n", "-p", "-s", "4", "-i", v.B}
			if tt.nobody {
				argv = asNobody(argv...)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name}, argv...)...)
			cmd.Dir = r.dir
			cmd.Env = append(os.Environ(), "HOME="+r.dir)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var errText strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				errText.WriteString(sc.Text() + "\n")
				if strings.HasPrefix(sc.Text(), "interface: ") {
					break
				}
			}
			threads := threadsOf(t, tt.exe)
			out, _ := ns.Exec("ip", "-d", "link", "show", v.B)
			io.Copy(&errText, stderr)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v: %v\n%s", argv, err, errText.String())
			}
			if len(threads) < 2 {
				t.Fatalf("found %d threads of %s running", len(threads), tt.exe)
			}
			keep := priv.Of(priv.NetRaw)
			for i, s := range threads {
				if s.Eff != keep || s.Prm != keep || s.Inh != 0 || s.Amb != 0 || !s.NoNewPrivs || (tt.bnd != 0 && s.Bnd != tt.bnd) {
					t.Errorf("thread %d of %d: %s; want CAP_NET_RAW only, no_new_privs", i, len(threads), s)
				}
			}
			if !strings.Contains(string(out), "promiscuity 1") {
				t.Errorf("-p: the interface was not promiscuous while fastop ran:\n%s", out)
			}
			after, _ := ns.Exec("ip", "-d", "link", "show", v.B)
			if !strings.Contains(string(after), "promiscuity 0") {
				t.Errorf("promiscuous mode outlived fastop:\n%s", after)
			}
			line := privLine(t, errText.String())
			if !strings.Contains(line, "permitted before: CAP_NET_RAW and CAP_NET_ADMIN") || !strings.Contains(line, "effective CAP_NET_RAW, permitted CAP_NET_RAW, inheritable none, ambient none") {
				t.Errorf("%s", line)
			}
			if !strings.Contains(stdout.String(), "Listening on "+v.B) {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}
