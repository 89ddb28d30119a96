// Package naming turns numbers into names: host names from a background
// DNS [Resolver] that never blocks its callers, and service names from
// /etc/services ([DefaultServices], with a built-in table for systems that
// lack the file). Names come from outside and are not trusted: the
// formatters in display clean them before they are shown.
package naming
