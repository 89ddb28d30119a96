package display

import (
	"slices"
	"strings"
	"testing"

	"github.com/fastop/fastop/table"
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

// step applies keys to st and returns the last action.
func step(st UIState, keys ...Key) (UIState, Action) {
	var a Action
	for _, k := range keys {
		st, a = st.Key(k)
	}
	return st, a
}

// TestKeyStateMachine walks iftop's keys (docs/iftop.md#keys): each row
// applies keys to a state and checks the next state and the status hint.
func TestKeyStateMachine(t *testing.T) {
	def := DefaultUIState()
	tests := []struct {
		name   string
		from   func(UIState) UIState
		keys   []Key
		check  func(UIState) bool
		msg    string
		sticky bool
		action Action
	}{
		{"q quits", nil, []Key{'q'}, nil, "", false, Action{Quit: true}},
		{"ctrl-c quits", nil, []Key{KeyCtrlC}, nil, "", false, Action{Quit: true}},
		{"h help", nil, []Key{'h'}, func(s UIState) bool { return s.Help }, "", false, Action{}},
		{"? help twice", nil, []Key{'?', '?'}, func(s UIState) bool { return !s.Help }, "", false, Action{}},
		{"n", nil, []Key{'n'}, func(s UIState) bool { return !s.DNS }, "DNS resolution off", false, Action{NewMsg: true}},
		{"n n", nil, []Key{'n', 'n'}, func(s UIState) bool { return s.DNS }, "DNS resolution on", false, Action{NewMsg: true}},
		{"N", nil, []Key{'N'}, func(s UIState) bool { return !s.PortNames }, "Port resolution off", false, Action{NewMsg: true}},
		{"N N", nil, []Key{'N', 'N'}, func(s UIState) bool { return s.PortNames }, "Port resolution on", false, Action{NewMsg: true}},
		{"s", nil, []Key{'s'}, func(s UIState) bool { return s.View.HideSrc }, "Hide source host", false, Action{NewMsg: true}},
		{"s s", nil, []Key{'s', 's'}, func(s UIState) bool { return !s.View.HideSrc }, "Show source host", false, Action{NewMsg: true}},
		{"d", nil, []Key{'d'}, func(s UIState) bool { return s.View.HideDst }, "Hide dest host", false, Action{NewMsg: true}},
		{"d d", nil, []Key{'d', 'd'}, func(s UIState) bool { return !s.View.HideDst }, "Show dest host", false, Action{NewMsg: true}},
		{"S off", nil, []Key{'S'}, ports(table.PortsSource), "Port display SOURCE", false, Action{NewMsg: true}},
		{"S source", withPorts(table.PortsSource), []Key{'S'}, ports(table.PortsOff), "Port display OFF", false, Action{NewMsg: true}},
		{"S dest", withPorts(table.PortsDest), []Key{'S'}, ports(table.PortsOn), "Port display ON", false, Action{NewMsg: true}},
		{"S on", withPorts(table.PortsOn), []Key{'S'}, ports(table.PortsDest), "Port display DEST", false, Action{NewMsg: true}},
		{"D off", nil, []Key{'D'}, ports(table.PortsDest), "Port display DEST", false, Action{NewMsg: true}},
		{"D dest", withPorts(table.PortsDest), []Key{'D'}, ports(table.PortsOff), "Port display OFF", false, Action{NewMsg: true}},
		{"D source", withPorts(table.PortsSource), []Key{'D'}, ports(table.PortsOn), "Port display ON", false, Action{NewMsg: true}},
		{"D on", withPorts(table.PortsOn), []Key{'D'}, ports(table.PortsSource), "Port display SOURCE", false, Action{NewMsg: true}},
		{"p off", nil, []Key{'p'}, ports(table.PortsOn), "Port display ON", false, Action{NewMsg: true}},
		{"p source", withPorts(table.PortsSource), []Key{'p'}, ports(table.PortsOff), "Port display OFF", false, Action{NewMsg: true}},
		{"p on", withPorts(table.PortsOn), []Key{'p'}, ports(table.PortsOff), "Port display OFF", false, Action{NewMsg: true}},
		{"t", nil, []Key{'t'}, mode(table.OneLineBoth), "One line per host", false, Action{NewMsg: true}},
		{"t t", nil, []Key{'t', 't'}, mode(table.OneLineRecv), "Received traffic only", false, Action{NewMsg: true}},
		{"t t t", nil, []Key{'t', 't', 't'}, mode(table.OneLineSent), "Sent traffic only", false, Action{NewMsg: true}},
		{"t t t t", nil, []Key{'t', 't', 't', 't'}, mode(table.TwoLine), "Two lines per host", false, Action{NewMsg: true}},
		{"b", nil, []Key{'b'}, func(s UIState) bool { return !s.Bars }, "Bars off", false, Action{NewMsg: true}},
		{"b b", nil, []Key{'b', 'b'}, func(s UIState) bool { return s.Bars }, "Bars on", false, Action{NewMsg: true}},
		{"B", nil, []Key{'B'}, barWin(table.Win40s), "Bars show 40s average", false, Action{NewMsg: true}},
		{"B B", nil, []Key{'B', 'B'}, barWin(table.Win2s), "Bars show 2s average", false, Action{NewMsg: true}},
		{"B B B", nil, []Key{'B', 'B', 'B'}, barWin(table.Win10s), "Bars show 10s average", false, Action{NewMsg: true}},
		{"T", nil, []Key{'T'}, func(s UIState) bool { return s.Totals }, "Show cumulative totals", false, Action{NewMsg: true}},
		{"T T", nil, []Key{'T', 'T'}, func(s UIState) bool { return !s.Totals }, "Hide cumulative totals", false, Action{NewMsg: true}},
		{"L", nil, []Key{'L'}, func(s UIState) bool { return s.Log }, "Logarithmic scale", false, Action{NewMsg: true}},
		{"L L", nil, []Key{'L', 'L'}, func(s UIState) bool { return !s.Log }, "Linear scale", false, Action{NewMsg: true}},
		{"P", nil, []Key{'P'}, func(s UIState) bool { return s.Paused }, "Display paused", true, Action{NewMsg: true}},
		{"P P", nil, []Key{'P', 'P'}, func(s UIState) bool { return !s.Paused }, "Display unpaused", false, Action{NewMsg: true}},
		{"o", nil, []Key{'o'}, func(s UIState) bool { return s.Frozen }, "Order frozen", true, Action{NewMsg: true, Freeze: true}},
		{"o o", nil, []Key{'o', 'o'}, func(s UIState) bool { return !s.Frozen }, "Order unfrozen", false, Action{NewMsg: true}},
		{"s while frozen refreezes", nil, []Key{'o', 's'}, func(s UIState) bool { return s.Frozen && s.View.HideSrc }, "Hide source host", false, Action{NewMsg: true, Freeze: true}},
		{"1", nil, []Key{'1'}, order(Sort2s), "Sort by col 1", false, Action{NewMsg: true}},
		{"2", nil, []Key{'3', '2'}, order(Sort10s), "Sort by col 2", false, Action{NewMsg: true}},
		{"3", nil, []Key{'3'}, order(Sort40s), "Sort by col 3", false, Action{NewMsg: true}},
		{"<", nil, []Key{'<'}, order(SortSource), "Sort by source", false, Action{NewMsg: true}},
		{">", nil, []Key{'>'}, order(SortDest), "Sort by dest", false, Action{NewMsg: true}},
		{"j j", nil, []Key{'j', 'j'}, func(s UIState) bool { return s.Scroll == 2 }, "", false, Action{}},
		{"k stops at 0", nil, []Key{'j', 'k', 'k'}, func(s UIState) bool { return s.Scroll == 0 }, "", false, Action{}},
		{"!", nil, []Key{'!'}, nil, "Sorry, subshells have been disabled.", false, Action{NewMsg: true}},
		{"^L", nil, []Key{KeyCtrlL}, nil, "", false, Action{Repaint: true}},
		{"H", nil, []Key{'H'}, nil, HelpHint, false, Action{NewMsg: true}},
		{"Esc", nil, []Key{KeyEsc}, nil, HelpHint, false, Action{NewMsg: true}},
		{"arrow", nil, []Key{KeyUp}, nil, HelpHint, false, Action{NewMsg: true}},
		{"a message replaces a sticky one", nil, []Key{'P', 'n'}, func(s UIState) bool { return s.Paused }, "DNS resolution off", false, Action{NewMsg: true}},
		{"l opens the screen filter prompt", nil, []Key{'l'}, func(s UIState) bool {
			return s.Edit == EditScreenFilter && s.Editor.Prompt == PromptScreenFilter
		}, "", false, Action{}},
		{"l takes a regexp", nil, append([]Key{'l'}, keysOf(`0\.(3|200)`+"\r")...), func(s UIState) bool {
			return s.Edit == EditNone && s.FilterText == `0\.(3|200)` && s.Filter.MatchString("10.99.0.200   ")
		}, "", false, Action{}},
		{"l is case-insensitive", nil, append([]Key{'l'}, keysOf("HOSTA\r")...), func(s UIState) bool { return s.Filter.MatchString("hosta.lan") }, "", false, Action{}},
		{"l with a bad regexp keeps the filter", withFilter(`0\.3`), append([]Key{'l', KeyCtrlU}, keysOf("(abc\r")...), func(s UIState) bool {
			return s.FilterText == `0\.3` && s.Filter != nil
		}, "Invalid regexp: missing closing ): `(abc`", false, Action{NewMsg: true}},
		{"l empty clears", withFilter(`0\.3`), []Key{'l', KeyCtrlU, KeyEnter}, func(s UIState) bool { return s.Filter == nil && s.FilterText == "" }, "", false, Action{}},
		{"l Esc keeps the old filter", withFilter(`0\.3`), []Key{'l', KeyCtrlU, 'x', KeyEsc}, func(s UIState) bool { return s.FilterText == `0\.3` && s.Edit == EditNone }, "", false, Action{}},
		{"l ^G cancels", nil, []Key{'l', 'x', KeyCtrlG}, func(s UIState) bool { return s.Filter == nil && s.Edit == EditNone }, "", false, Action{}},
		{"keys go to the prompt", nil, []Key{'l', 'q'}, func(s UIState) bool { return s.Editor.Text == "q" }, "", false, Action{}},
		{"the prompt beeps at Tab", nil, []Key{'l', KeyTab}, func(s UIState) bool { return s.Edit == EditScreenFilter }, "", false, Action{Beep: true}},
		{"f opens the filter prompt with the filter", withCode("port 80"), []Key{'f'}, func(s UIState) bool {
			return s.Edit == EditFilterCode && s.Editor.Text == "port 80" && s.Editor.Pos == 7
		}, "", false, Action{}},
		{"f asks to install", nil, append([]Key{'f'}, keysOf(" udp \r")...), func(s UIState) bool { return s.Edit == EditNone }, "", false, Action{SetFilter: true, Filter: "udp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := def
			if tt.from != nil {
				st = tt.from(st)
			}
			next, a := step(st, tt.keys...)
			if a != tt.action {
				t.Errorf("action = %+v, want %+v", a, tt.action)
			}
			if next.Msg != tt.msg || next.MsgSticky != tt.sticky {
				t.Errorf("message = %q (sticky %v), want %q (sticky %v)", next.Msg, next.MsgSticky, tt.msg, tt.sticky)
			}
			if tt.check != nil && !tt.check(next) {
				t.Errorf("state after %q: %+v", tt.keys, next)
			}
		})
	}
}

func keysOf(s string) []Key {
	var ks []Key
	for i := 0; i < len(s); i++ {
		ks = append(ks, Key(s[i]))
	}
	return ks
}

func ports(p table.PortDisplay) func(UIState) bool {
	return func(s UIState) bool { return s.View.Ports == p }
}
func withPorts(p table.PortDisplay) func(UIState) UIState {
	return func(s UIState) UIState { s.View.Ports = p; return s }
}
func mode(m table.LineMode) func(UIState) bool { return func(s UIState) bool { return s.Mode == m } }
func barWin(w int) func(UIState) bool          { return func(s UIState) bool { return s.BarWin == w } }
func order(o Order) func(UIState) bool         { return func(s UIState) bool { return s.Order == o } }
func withFilter(text string) func(UIState) UIState {
	return func(s UIState) UIState {
		re, err := CompileScreenFilter(text)
		if err != nil {
			panic(err)
		}
		s.Filter, s.FilterText = re, text
		return s
	}
}
func withCode(code string) func(UIState) UIState {
	return func(s UIState) UIState { s.FilterCode = code; return s }
}

// TestKeyStatePure checks that Key does not change the state it is called
// on (a value in, a value out): the screen loop may keep old states.
func TestKeyStatePure(t *testing.T) {
	st := DefaultUIState()
	before := st
	for _, k := range keysOf("nNsdSDptbBTLPo123<>jkhl") {
		st.Key(k)
	}
	if st != before {
		t.Errorf("Key changed its receiver: %+v", st)
	}
}

func TestFilterResult(t *testing.T) {
	st := DefaultUIState()
	st.FilterCode = "tcp"
	ok, a := st.FilterResult("udp", nil)
	if ok.FilterCode != "udp" || ok.Msg != "Installed new filter" || !a.NewMsg {
		t.Errorf("success: code %q msg %q", ok.FilterCode, ok.Msg)
	}
	bad, _ := st.FilterResult("port foo", errString("unknown port 'foo'\nsecond line"))
	if bad.FilterCode != "tcp" || bad.Msg != "unknown port 'foo' second line" {
		t.Errorf("failure: code %q msg %q", bad.FilterCode, bad.Msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestExpireMsg(t *testing.T) {
	st := DefaultUIState()
	st, _ = st.Key('n')
	if st.ExpireMsg().Msg != "" {
		t.Error("a plain hint did not expire")
	}
	st, _ = st.Key('P')
	if st.ExpireMsg().Msg != "Display paused" {
		t.Error("Display paused expired")
	}
}
