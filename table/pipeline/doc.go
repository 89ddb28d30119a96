// Package pipeline runs fastop's spine: sources hand batches of frames to
// workers; each worker decodes, classifies and counts into its own
// table.Delta without locks; one merger folds the deltas into a
// table.Flows at every tick and publishes a table.Snapshot.
//
// Files are replayed deterministically: packet timestamps drive the clock
// and the reader spreads frames over the workers by a symmetric flow hash,
// the contract the kernel's PACKET_FANOUT_HASH gives live captures.
package pipeline
