package term

import (
	"strconv"
	"strings"
)

// The escape sequences the screen writes: the whole set, in one place. Forms
// are ECMA-48 (CSI = ESC [) and the DEC private modes every terminal emulator
// in use implements (xterm's ctlseqs documents them all). Nothing else is
// ever written to the terminal: no terminfo, no curses.
const (
	csi = "\x1b["

	// ansiReset is SGR 0: normal video.
	ansiReset = csi + "0m"
	// ansiReverse is SGR 7: reverse video (iftop's bars and status hint).
	ansiReverse = csi + "7m"
	// ansiClear is ED 2: erase the whole display (CSI 2 J), used for a full
	// repaint after a resize or ^L.
	ansiClear = csi + "2J"
	// ansiHome is CUP with no parameters: the cursor to row 1, column 1.
	ansiHome = csi + "H"

	// ansiHideCursor and ansiShowCursor are DECTCEM (DEC mode 25) reset and set.
	ansiHideCursor = csi + "?25l"
	ansiShowCursor = csi + "?25h"
	// ansiAltScreen and ansiMainScreen switch to the alternate screen and
	// back (xterm mode 1049: it also saves and restores the cursor), so the
	// shell's screen comes back untouched after q.
	ansiAltScreen  = csi + "?1049h"
	ansiMainScreen = csi + "?1049l"
	// ansiNoWrap and ansiWrap reset and set DECAWM (DEC mode 7). With
	// autowrap off, writing the bottom-right cell cannot scroll the screen.
	ansiNoWrap = csi + "?7l"
	ansiWrap   = csi + "?7h"
	// ansiSyncBegin and ansiSyncEnd bracket a frame in synchronized output
	// (DEC private mode 2026): a terminal that knows it shows the frame at
	// once, one that does not ignores the unknown mode.
	ansiSyncBegin = csi + "?2026h"
	ansiSyncEnd   = csi + "?2026l"
)

// Bell is BEL: the line editor beeps at keys it does not take.
const Bell = "\a"

// appendCUP appends CUP (CSI row ; col H), moving the cursor to the 0-based
// cell (x, y); the sequence itself is 1-based.
func appendCUP(dst []byte, x, y int) []byte {
	dst = append(dst, csi...)
	dst = strconv.AppendInt(dst, int64(y+1), 10)
	dst = append(dst, ';')
	dst = strconv.AppendInt(dst, int64(x+1), 10)
	return append(dst, 'H')
}

// EnterScreen is written once when a full-screen program starts: alternate
// screen, no autowrap, hidden cursor, normal video, cleared.
const EnterScreen = ansiAltScreen + ansiNoWrap + ansiHideCursor + ansiReset + ansiClear + ansiHome

// LeaveScreen undoes EnterScreen, in reverse order, whatever state a frame
// left behind (an unfinished synchronized frame included).
const LeaveScreen = ansiSyncEnd + ansiReset + ansiShowCursor + ansiWrap + ansiMainScreen

// UTF8Locale reports whether the locale in env (os.Getenv) is UTF-8, the
// way the C library picks it: the first of LC_ALL, LC_CTYPE and LANG that is
// set decides. When it is not, the screen draws its rules in ASCII.
func UTF8Locale(getenv func(string) string) bool {
	for _, name := range [...]string{"LC_ALL", "LC_CTYPE", "LANG"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		// "en_US.UTF-8", "C.utf8", "de_DE.UTF-8@euro".
		_, charset, _ := strings.Cut(v, ".")
		charset, _, _ = strings.Cut(charset, "@")
		charset = strings.ToLower(strings.ReplaceAll(charset, "-", ""))
		return charset == "utf8"
	}
	return false
}
