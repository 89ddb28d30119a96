// Package cmd is fastop's command line: cobra commands built in
// constructors, iftop's options and ~/.iftoprc turned into the packages'
// configs in one place, and errors turned into one-line messages and exit
// codes in one place.
package cmd
