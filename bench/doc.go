// Package bench measures fastop's pipeline: it replays captures (or
// synthetic traffic) held in memory through the same workers and merger
// that live capture uses, and reports packets per second, nanoseconds per
// packet, merge time per tick, heap and allocations.
package bench
