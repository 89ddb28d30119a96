package term

import (
	"strings"
	"testing"
)

// TestEditor drives the line editor as a state machine: start text, keys,
// then the text, the cursor and the last result.
func TestEditor(t *testing.T) {
	tests := []struct {
		name  string
		start string
		keys  []Key
		text  string
		pos   int
		last  EditResult
	}{
		{"type", "", keysOf("port 80"), "port 80", 7, EditContinue},
		{"starts at the end", "abc", []Key{'d'}, "abcd", 4, EditContinue},
		{"left and insert", "ac", []Key{KeyLeft, 'b'}, "abc", 2, EditContinue},
		{"left stops at 0", "a", []Key{KeyLeft, KeyLeft, KeyLeft, 'x'}, "xa", 1, EditContinue},
		{"right stops at the end", "a", []Key{KeyRight, 'x'}, "ax", 2, EditContinue},
		{"home", "bc", []Key{KeyHome, 'a'}, "abc", 1, EditContinue},
		{"ctrl-a", "bc", []Key{KeyCtrlA, 'a'}, "abc", 1, EditContinue},
		{"end", "ab", []Key{KeyHome, KeyEnd, 'c'}, "abc", 3, EditContinue},
		{"ctrl-e", "ab", []Key{KeyCtrlA, KeyCtrlE, 'c'}, "abc", 3, EditContinue},
		{"backspace", "abc", []Key{KeyBackspace}, "ab", 2, EditContinue},
		{"ctrl-h", "abc", []Key{KeyLeft, KeyCtrlH}, "ac", 1, EditContinue},
		{"backspace at 0", "abc", []Key{KeyHome, KeyBackspace}, "abc", 0, EditContinue},
		{"delete", "abc", []Key{KeyHome, KeyDelete}, "bc", 0, EditContinue},
		{"delete at the end", "abc", []Key{KeyDelete}, "abc", 3, EditContinue},
		{"ctrl-u", "port 80", []Key{KeyCtrlU}, "", 0, EditContinue},
		{"ctrl-w", "tcp and port 80", []Key{KeyCtrlW}, "tcp and port ", 13, EditContinue},
		{"ctrl-w over blanks", "tcp and  ", []Key{KeyCtrlW}, "tcp ", 4, EditContinue},
		{"ctrl-w mid-line", "ab cd ef", []Key{KeyLeft, KeyLeft, KeyLeft, KeyCtrlW}, "ab  ef", 3, EditContinue},
		{"enter accepts", "x", []Key{KeyEnter}, "x", 1, EditAccept},
		{"lf accepts", "x", []Key{KeyLF}, "x", 1, EditAccept},
		{"esc cancels", "x", []Key{'y', KeyEsc}, "xy", 2, EditCancel},
		{"ctrl-g cancels", "x", []Key{KeyCtrlG}, "x", 1, EditCancel},
		{"tab beeps", "x", []Key{KeyTab}, "x", 1, EditBeep},
		{"other controls beep", "x", []Key{0x02}, "x", 1, EditBeep},
		{"non-ascii beeps", "x", []Key{KeyUnknown}, "x", 1, EditBeep},
		{"up beeps", "x", []Key{KeyUp}, "x", 1, EditBeep},
		{"full line beeps", strings.Repeat("a", maxEditLen), []Key{'b'}, strings.Repeat("a", maxEditLen), maxEditLen, EditBeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEditor("> ", tt.start)
			var res EditResult
			for _, k := range tt.keys {
				e, res = e.Key(k)
			}
			if e.Text != tt.text || e.Pos != tt.pos || res != tt.last {
				t.Errorf("got %q pos %d result %d, want %q pos %d result %d", e.Text, e.Pos, res, tt.text, tt.pos, tt.last)
			}
		})
	}
}

func TestEditorView(t *testing.T) {
	tests := []struct {
		prompt, text string
		pos, w       int
		line         string
		cursor       int
	}{
		{"Net filter> ", "udp", 3, 80, "Net filter> udp", 15},
		{"Net filter> ", "udp", 0, 80, "Net filter> udp", 12},
		// Too long: the text scrolls so the cursor stays on screen.
		{"> ", "abcdefghij", 10, 8, "> fghij", 7},
		{"> ", "abcdefghij", 2, 8, "> abcde", 4},
		// A prompt wider than the screen: the text alone.
		{"Screen filter> ", "abc", 3, 5, "abc", 3},
	}
	for _, tt := range tests {
		e := Editor{Prompt: tt.prompt, Text: tt.text, Pos: tt.pos}
		line, cur := e.View(tt.w)
		if line != tt.line || cur != tt.cursor {
			t.Errorf("View(%q, pos %d, w %d) = %q, %d; want %q, %d", tt.text, tt.pos, tt.w, line, cur, tt.line, tt.cursor)
		}
		if len(line) > tt.w || cur >= tt.w {
			t.Errorf("View(%q, w %d) overflows: %q, %d", tt.text, tt.w, line, cur)
		}
	}
}

// keysOf returns one key per byte of s.
func keysOf(s string) []Key {
	var ks []Key
	for i := 0; i < len(s); i++ {
		ks = append(ks, Key(s[i]))
	}
	return ks
}
