package filter

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// liveViews turns a frame of an Ethernet capture into what a Linux
// AF_PACKET socket can see: the frame as it is (tag in the data, no
// metadata: a transmitted frame), and, when it has an outer 802.1Q/802.1ad
// tag, the frame with that tag moved into metadata (a received frame).
// Each view comes as inbound and outbound, on two interfaces.
func liveViews(data []byte, wire uint32) []ring.Record {
	var out []ring.Record
	add := func(d []byte, m decode.Meta) {
		for _, pt := range []decode.PktType{decode.PktHost, decode.PktOutgoing} {
			for _, ifi := range []int32{1, 2} {
				mm := m
				mm.PktType, mm.Ifindex = pt, ifi
				out = append(out, ring.Record{Data: d, Meta: mm})
			}
		}
	}
	add(data, decode.Meta{Link: decode.LinkEthernet, WireLen: wire})
	if len(data) >= 18 {
		tpid := binary.BigEndian.Uint16(data[12:])
		if tpid == 0x8100 || tpid == 0x88a8 {
			stripped := append(append([]byte{}, data[:12]...), data[16:]...)
			add(stripped, decode.Meta{Link: decode.LinkEthernet, WireLen: wire - 4, VLANOK: true,
				VLANTPID: tpid, VLANTCI: binary.BigEndian.Uint16(data[14:])})
		}
	}
	return out
}

// libpcapLiveOptimizerBugs lists the live expressions on which libpcap's
// optimised program departs from its own unoptimised one. fastop follows
// the unoptimised program (libpcap's documented semantics).
var libpcapLiveOptimizerBugs = map[string]string{
	// The optimiser hoists "M[1] = 4" above the SKF_AD_VLAN_TAG_PRESENT
	// test, so a frame whose outer tag is in metadata and whose data
	// starts with an inner tag has its second "ip" read 4 bytes too far.
	"ip or vlan and ip": "offset update hoisted above the metadata test",
}

// TestLivePrograms compiles every golden expression for a live Ethernet
// socket and checks that fastop's program gives the same verdict as
// libpcap's live programs on every live view of every Ethernet frame of
// the corpus: the optimised ones (golden programs-linux-live-en10mb.tsv,
// or programs.tsv where they are the same) and, for vlan expressions, the
// unoptimised ones (testdata/live-unoptimized-en10mb.tsv).
func TestLivePrograms(t *testing.T) {
	dead := goldenPrograms(t)[decode.LinkEthernet]
	live := twoColumnPrograms(t, "programs-linux-live-en10mb.tsv")
	unopt := map[string]Program{}
	for _, r := range readTSV(t, filepath.Join("testdata", "live-unoptimized-en10mb.tsv"), 2) {
		p, err := ParseDDD(r[1])
		if err != nil {
			t.Fatal(err)
		}
		unopt[r[0]] = p
	}
	var frames []ring.Record
	matches, _ := filepath.Glob(filepath.Join(corpus(t), "pcap", "*", "*"))
	for _, path := range matches {
		f, err := readCapture(path)
		if err != nil || f.Link != decode.LinkEthernet {
			continue
		}
		for _, r := range f.Records {
			frames = append(frames, liveViews(r.Data, r.Meta.WireLen)...)
		}
	}
	var exprs, verdicts int
	for expr, lp := range dead {
		if _, skip := unsupportedByDesign[expr]; skip {
			continue
		}
		refs := map[string]Program{"optimised": lp}
		if p, ok := live[expr]; ok {
			refs["optimised"] = p
			if u, ok := unopt[expr]; ok {
				refs["unoptimised"] = u
			} else {
				t.Errorf("%q: no unoptimised live program in testdata", expr)
			}
		}
		ours, err := Compile(expr, Options{Link: decode.LinkEthernet, Live: true, Names: debianNames()})
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		vmOurs, err := NewVM(ours)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		exprs++
		for name, ref := range refs {
			vmRef, err := NewVMWith(ref, VMOptions{Libpcap: true})
			if err != nil {
				t.Fatalf("%q: libpcap's %s program: %v", expr, name, err)
			}
			_, bug := libpcapLiveOptimizerBugs[expr]
			bug = bug && name == "optimised"
			differ := false
			for i := range frames {
				r := &frames[i]
				verdicts++
				got, want := vmOurs.Run(r.Data, &r.Meta) != 0, vmRef.Run(r.Data, &r.Meta) != 0
				if got != want {
					differ = true
					if !bug {
						t.Errorf("%q on live view %d (vlan meta %v tci %#x, pkttype %d): fastop %v, libpcap's %s program %v\nfastop:\n%s\nlibpcap:\n%s",
							expr, i, r.Meta.VLANOK, r.Meta.VLANTCI, r.Meta.PktType, got, name, want, ours, ref)
					}
					break
				}
			}
			if bug && !differ {
				t.Errorf("%q is listed as a libpcap optimiser bug but its optimised program agrees with fastop: drop it from the list", expr)
			}
		}
	}
	t.Logf("%d expressions x %d live frames: %d verdicts compared with libpcap's live programs", exprs, len(frames), verdicts)
}
