package term

import (
	"slices"
	"strings"
	"testing"
)

func TestKeyReader(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string // fed one after another
		flush  bool     // then the Esc timeout fires
		want   []Key
	}{
		{"ascii", []string{"qhT1<"}, false, []Key{'q', 'h', 'T', '1', '<'}},
		{"controls", []string{"\x03\x0c\r\x7f\x08\x15\x17"}, false, []Key{KeyCtrlC, KeyCtrlL, KeyEnter, KeyBackspace, KeyCtrlH, KeyCtrlU, KeyCtrlW}},
		{"csi arrows", []string{"\x1b[A\x1b[B\x1b[C\x1b[D"}, false, []Key{KeyUp, KeyDown, KeyRight, KeyLeft}},
		{"ss3 arrows and home end", []string{"\x1bOA\x1bOD\x1bOH\x1bOF"}, false, []Key{KeyUp, KeyLeft, KeyHome, KeyEnd}},
		{"tilde keys", []string{"\x1b[1~\x1b[7~\x1b[4~\x1b[8~\x1b[3~\x1b[2~\x1b[5~\x1b[6~"}, false,
			[]Key{KeyHome, KeyHome, KeyEnd, KeyEnd, KeyDelete, KeyInsert, KeyPgUp, KeyPgDn}},
		{"modifiers", []string{"\x1b[1;5C\x1b[3;2~"}, false, []Key{KeyRight, KeyDelete}},
		{"unknown csi", []string{"\x1b[99~\x1b[5Z"}, false, []Key{KeyUnknown, KeyUnknown}},
		{"split sequence", []string{"x\x1b", "[", "D", "y"}, false, []Key{'x', KeyLeft, 'y'}},
		{"lone esc waits", []string{"\x1b"}, false, nil},
		{"lone esc on timeout", []string{"\x1b"}, true, []Key{KeyEsc}},
		{"esc then key", []string{"\x1bq"}, false, []Key{KeyEsc, 'q'}},
		{"esc esc", []string{"\x1b\x1b"}, true, []Key{KeyEsc, KeyEsc}},
		{"cut csi on timeout", []string{"\x1b[1;"}, true, []Key{KeyUnknown}},
		{"cut ss3 on timeout", []string{"\x1bO"}, true, []Key{KeyEsc, 'O'}},
		{"utf-8 is one unknown key", []string{"é€"}, false, []Key{KeyUnknown, KeyUnknown}},
		{"split utf-8", []string{"\xe2\x82", "\xac"}, false, []Key{KeyUnknown}},
		{"invalid utf-8", []string{"\xff\xfe"}, false, []Key{KeyUnknown, KeyUnknown}},
		{"bad csi final byte", []string{"\x1b[1\x01q"}, false, []Key{KeyUnknown, KeyCtrlA, 'q'}},
		{"overlong csi", []string{"\x1b[" + strings.Repeat("1", 40) + "~"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kr KeyReader
			var got []Key
			for _, c := range tt.chunks {
				got = kr.Feed(got, []byte(c))
			}
			if tt.flush {
				got = kr.Flush(got)
			}
			if tt.name == "overlong csi" {
				// Junk is dropped as unknown keys, never stalls, and the
				// reader is empty after it.
				got = kr.Flush(got)
				for _, k := range got {
					if k != KeyUnknown && k != '1' && k != '~' {
						t.Errorf("overlong sequence gave key %d", k)
					}
				}
				if kr.Pending() {
					t.Error("reader still pending")
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("keys = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzKeyReader checks that any byte stream, in any split, gives keys and
// leaves nothing behind after Flush, and that splitting never changes what
// comes out of a stream without Esc.
func FuzzKeyReader(f *testing.F) {
	f.Add([]byte("q\x1b[A\x1bOH\x1b[3~é"), 3)
	f.Add([]byte("\x1b\x1b[\x1bO"), 1)
	f.Fuzz(func(t *testing.T, b []byte, split int) {
		var one, two KeyReader
		a := one.Flush(one.Feed(nil, b))
		if split < 0 {
			split = -split
		}
		split %= len(b) + 1
		c := two.Feed(nil, b[:split])
		c = two.Flush(two.Feed(c, b[split:]))
		if one.Pending() || two.Pending() {
			t.Fatal("pending after Flush")
		}
		if len(a) > len(b) || len(c) > len(b) {
			t.Fatalf("more keys than bytes: %d, %d from %d", len(a), len(c), len(b))
		}
		if !slices.Contains(b, 0x1b) && !slices.Equal(a, c) {
			t.Fatalf("split at %d changed the keys: %v vs %v", split, a, c)
		}
	})
}
