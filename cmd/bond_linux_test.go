package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/ring/links"
	"github.com/fastop/fastop/table/bondhash"
)

// bondReport is the part of a JSON report the bond tests read.
type bondReport struct {
	Bonds []struct {
		Master, Mode string
		Policy       *string
		Variant      *string
		Why          *string
		Agree        struct{ Bytes, Packets uint64 }
		Disagree     struct{ Bytes, Packets uint64 }
		Unknown      struct{ Bytes, Packets uint64 }
		Links        []struct {
			Name      string
			Usable    bool
			Observed  uint64
			Agree     struct{ Bytes, Packets uint64 }
			Disagree  struct{ Bytes, Packets uint64 }
			Predicted uint64
			IfLayer34 uint64   `json:"if_layer34"`
			IfFails   []uint64 `json:"if_fails"`
		}
	}
}

// TestLiveBondCheck: the whole path without the bonding module. A fake
// sysfs makes the test namespace's lo a balance-xor layer3+4 bond of two
// veth links (as sysfs would describe a real one); -i lo captures the
// two links, and UDP flows are sent out of the first. Every packet's
// verdict must be what bondhash.PredictPacket says on the same frame with
// the running kernel's variant: the flows it puts on the first link
// agree, those it puts on the second disagree (they left by the first),
// to the packet and byte; the what-ifs follow from the predictions.
func TestLiveBondCheck(t *testing.T) {
	gns, pns := netns.NewT(t), netns.NewT(t)
	va, vb := netns.NewVethT(t, gns, pns), netns.NewVethT(t, gns, pns)
	var lo afpacket.Interface
	var sender *gen.Sender
	var srcMAC [6]byte
	if err := gns.Do(func() error {
		var err error
		if lo, err = afpacket.LookupInterface("lo"); err != nil {
			return err
		}
		a, err := afpacket.LookupInterface(va.A)
		if err != nil {
			return err
		}
		srcMAC = [6]byte(a.MAC)
		sender, err = gen.NewSender(va.A, false) // through the qdisc: capture sees it leave
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	fakeBondSys(t, "lo", lo.Index, va.A, vb.A)

	release, err := links.KernelRelease()
	if err != nil {
		t.Fatal(err)
	}
	variant, err := bondhash.VariantFor(release)
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	cfg := bondhash.Config{Mode: bondhash.ModeXOR, Policy: bondhash.PolicyLayer34, Variant: variant, BigEndian: bondhash.NativeBigEndian()}

	const port = 5555
	var flows []gen.Flow
	for i := range 40 {
		flows = append(flows, gen.Flow{DstMAC: [6]byte{2, 0, 0, 0, 0, byte(i)}, SrcMAC: srcMAC,
			Src: netip.MustParseAddr("10.9.0.1"), Dst: netip.AddrFrom4([4]byte{10, 9, 1, byte(i)}),
			Proto: gen.ProtoUDP, SrcPort: uint16(40000 + 7*i), DstPort: port, Payload: 10 + i})
	}
	frames, err := gen.Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}

	errOut := &signalWriter{mark: "interface: lo", ready: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- gns.Do(func() error {
			root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: errOut}, nil)
			root.SetArgs([]string{"-i", "lo", "--json", "-s", "3", "-n", "-v", "--fanout", "2", "-f", fmt.Sprintf("udp and dst port %d", port)})
			return root.ExecuteContext(context.Background())
		})
	}()
	select {
	case <-errOut.ready:
	case err := <-done:
		t.Fatalf("fastop ended before capturing: %v: %s", err, errOut.buf.String())
	}
	res, err := sender.Run(context.Background(), gen.RunConfig{Source: frames, Count: 20 * uint64(len(flows)), Rate: 20000})
	if err != nil || res.Failed != 0 {
		t.Fatalf("generator: %v, %d refused", err, res.Failed)
	}
	if err := <-done; err != nil {
		t.Fatalf("fastop: %v (stderr: %s)", err, errOut.buf.String())
	}
	if want := "fastop: lo: checking transmit links against the kernel's layer3+4 hash (the " + variant.Name + " formula, from kernel " + release + ")"; !strings.Contains(errOut.buf.String(), want) {
		t.Errorf("-v does not say %q:\n%s", want, errOut.buf.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r bondReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out.String(), err)
	}

	// What bondhash says on the frames that were sent.
	var agree, disagree [2]uint64 // packets, bytes
	var pred [2]uint64
	for i := range flows {
		var p decode.Packet
		m := decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktOutgoing}
		if err := decode.Frame(frames[i], &m, &p); err != nil {
			t.Fatal(err)
		}
		pr := cfg.PredictPacket(&p, false, 2)
		if !pr.OK() {
			t.Fatalf("flow %d: no prediction: %v", i, pr.Why)
		}
		n, b := res.PerFlow[i], res.PerFlow[i]*uint64(p.IPLen)
		pred[pr.Link] += b
		if pr.Link == 0 {
			agree[0], agree[1] = agree[0]+n, agree[1]+b
		} else {
			disagree[0], disagree[1] = disagree[0]+n, disagree[1]+b
		}
	}
	if agree[0] == 0 || disagree[0] == 0 {
		t.Fatalf("the flows do not spread over both links (agree %v, disagree %v): pick others", agree, disagree)
	}
	if len(r.Bonds) != 1 {
		t.Fatalf("%d bonds in the report, want 1: %s", len(r.Bonds), lines[len(lines)-1])
	}
	b := r.Bonds[0]
	if b.Master != "lo" || b.Mode != "balance-xor" || b.Why != nil || b.Variant == nil || *b.Variant != variant.Name {
		t.Fatalf("bond %+v; want lo, balance-xor, variant %s", b, variant.Name)
	}
	if b.Agree.Packets != agree[0] || b.Agree.Bytes != agree[1] || b.Disagree.Packets != disagree[0] || b.Disagree.Bytes != disagree[1] || b.Unknown.Packets != 0 {
		t.Fatalf("agree %+v, disagree %+v, unknown %+v; bondhash says agree %v, disagree %v (packets, bytes)", b.Agree, b.Disagree, b.Unknown, agree, disagree)
	}
	l0, l1 := b.Links[0], b.Links[1]
	if l0.Name != va.A || l1.Name != vb.A || !l0.Usable || !l1.Usable || l0.Observed != agree[1]+disagree[1] || l1.Observed != 0 {
		t.Fatalf("links %+v", b.Links)
	}
	all := agree[1] + disagree[1]
	if l0.Predicted != pred[0] || l1.Predicted != pred[1] || l0.IfLayer34 != pred[0] || l1.IfLayer34 != pred[1] {
		t.Fatalf("predicted %d, %d, layer3+4 %d, %d; want %v", l0.Predicted, l1.Predicted, l0.IfLayer34, l1.IfLayer34, pred)
	}
	if fmt.Sprint(l0.IfFails) != fmt.Sprint([]uint64{0, all}) || fmt.Sprint(l1.IfFails) != fmt.Sprint([]uint64{all, 0}) {
		t.Fatalf("if_fails %v, %v; want everything on the other link (%d bytes)", l0.IfFails, l1.IfFails, all)
	}
}

// TestLiveRealBondCheck: on a real bond (where the bonding driver is
// loaded), every transmitted packet leaves by the link the kernel's
// formula names: no disagreement.
func TestLiveRealBondCheck(t *testing.T) {
	cns, gns, _, _, bond := realBondT(t, "10.63.0", "; the fake-sysfs test TestLiveBondCheck runs instead")
	sink := listenIn(t, gns, "10.63.0.2", linkTestPort)
	warm := udpPlan{from: "10.63.0.1", to: "10.63.0.2", ns: cns, n: 1, payload: 1}
	if err := warm.sendFrom(linkTestPort+9, linkTestPort); err != nil {
		t.Fatal(err)
	}
	if err := receive(sink, 1); err != nil {
		t.Fatal(err)
	}
	const flows, per = 16, 5
	traffic := func() error {
		for i := range flows {
			p := udpPlan{from: "10.63.0.1", to: "10.63.0.2", ns: cns, n: per, payload: 100 + i}
			if err := p.sendFrom(linkTestPort+10+i, linkTestPort); err != nil {
				return err
			}
			if err := receive(sink, per); err != nil {
				return err
			}
		}
		return nil
	}
	out, _ := runFastopIn(t, cns, bond, traffic, "-i", bond, "--json", "-s", "3", "-n",
		"-f", fmt.Sprintf("udp and dst port %d", linkTestPort))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r bondReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if len(r.Bonds) != 1 {
		t.Fatalf("%d bonds, want 1", len(r.Bonds))
	}
	b := r.Bonds[0]
	if b.Why != nil {
		t.Skipf("skipping: no prediction on this kernel: %s", *b.Why)
	}
	if b.Agree.Packets != flows*per || b.Disagree.Packets != 0 || b.Unknown.Packets != 0 {
		t.Fatalf("agree %+v, disagree %+v, unknown %+v; want all %d packets as predicted", b.Agree, b.Disagree, b.Unknown, flows*per)
	}
}
