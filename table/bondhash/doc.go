// Package bondhash predicts the link a Linux bond transmits a packet on,
// with the kernel's own formula, and answers two what-ifs over a set of
// flows. It is pure: no system calls, no I/O; the caller reads the bond's
// mode, policy and usable links from sysfs and the kernel release from
// uname.
//
// # What is predicted
//
// Modes balance-xor and 802.3ad with xmit_hash_policy layer2, layer2+3
// and layer3+4, as drivers/net/bonding/bond_main.c computes them
// (bond_xmit_hash, bond_eth_hash, bond_flow_dissect, bond_ip_hash):
//
//   - layer2: dst MAC[5] ^ src MAC[5] ^ EtherType.
//   - layer2+3: the layer2 hash ^ dst address ^ src address (IPv6
//     addresses folded to 32 bits by XOR), then h ^= h>>16; h ^= h>>8.
//   - layer3+4: the same fold seeded by the 4 port bytes instead of the
//     layer2 hash, then h >>= 1.
//   - link = hash % usable links, counted in the bond's slave order among
//     the links that can transmit (in 802.3ad, the active aggregator's).
//
// Addresses and ports are XORed as host-order words, so the machine's
// byte order matters (Config.BigEndian). A packet that is not IPv4 or
// IPv6 gets the layer2 hash under every policy. An IPv4 fragment, first
// or not, hashes without ports; so does any IPv6 packet whose first Next
// Header is not TCP, UDP, UDP-Lite, DCCP, SCTP, ESP or AH.
//
// # Kernel variants
//
// The formula changed; [VariantFor] picks the variant from a release
// string, by major.minor:
//
//   - 4.10: the base modelled here. Older kernels are refused: 3.15 to 4.x
//     left the EtherType out of the layer2 hash until some release this
//     package does not pin down, and before 3.15 the formulas differed.
//   - 4.15: layer2+3 and layer3+4 drop the lowest bit (h >>= 1).
//   - 5.5: ICMP echo and timestamp identifiers stand in for ports under
//     layer3+4, and an ICMP error is hashed on the packet it quotes under
//     layer2+3 and layer3+4.
//   - 5.15: the EtherType is XORed as a number (0x0800); before, it was the
//     big-endian field read in host order (0x0008 on x86).
//   - 5.18: the lowest bit is dropped for layer3+4 only, as before 4.15.
//
// Stable and vendor kernels carry backports (the 5.18 change reached
// some 5.15.y and 5.17.y; RHEL 8's 4.18 has much newer bonding code), so
// a prediction is a claim to check against the link a flow was seen on,
// not a fact.
//
// # What is not predicted
//
// [Prediction.Why] says why, one [Reason] per case: modes that do not
// hash (balance-rr, active-backup, broadcast, balance-tlb, balance-alb);
// encap2+3, encap3+4 (which also takes the socket's own hash) and
// vlan+srcmac; frames without MACs where the policy needs them; ports,
// ESP/AH SPIs or ICMP identifiers the capture did not keep; ICMP errors
// on 5.5 and later; IPv6 packets with extension headers (the decoder
// keeps the last header, the bond reads the first); VLAN tags inside the
// frame (whether the bond saw the tag inside depends on the slave's
// offloads). Sockets with TLS device offload, which pin a flow to a link,
// are not seen at all.
//
// # What-ifs
//
// [SplitIfLayer34] spreads flows' bytes over the links as layer3+4 would.
// [IfLinkFails] rehashes every flow over one link fewer, as the kernel does
// when a link stops: the failed link's flows spread over the others, and
// flows of other links can move too.
package bondhash
