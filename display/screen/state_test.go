package screen

import (
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// step applies keys to st and returns the last action.
func step(st UIState, keys ...term.Key) (UIState, action) {
	var a action
	for _, k := range keys {
		st, a = st.key(k)
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
		keys   []term.Key
		check  func(UIState) bool
		msg    string
		sticky bool
		action action
	}{
		{"q quits", nil, []term.Key{'q'}, nil, "", false, action{Quit: true}},
		{"ctrl-c quits", nil, []term.Key{term.KeyCtrlC}, nil, "", false, action{Quit: true}},
		{"h help", nil, []term.Key{'h'}, func(s UIState) bool { return s.Help }, "", false, action{}},
		{"? help twice", nil, []term.Key{'?', '?'}, func(s UIState) bool { return !s.Help }, "", false, action{}},
		{"n", nil, []term.Key{'n'}, func(s UIState) bool { return !s.DNS }, "DNS resolution off", false, action{NewMsg: true}},
		{"n n", nil, []term.Key{'n', 'n'}, func(s UIState) bool { return s.DNS }, "DNS resolution on", false, action{NewMsg: true}},
		{"N", nil, []term.Key{'N'}, func(s UIState) bool { return !s.PortNames }, "Port resolution off", false, action{NewMsg: true}},
		{"N N", nil, []term.Key{'N', 'N'}, func(s UIState) bool { return s.PortNames }, "Port resolution on", false, action{NewMsg: true}},
		{"s", nil, []term.Key{'s'}, func(s UIState) bool { return s.View.HideSrc }, "Hide source host", false, action{NewMsg: true}},
		{"s s", nil, []term.Key{'s', 's'}, func(s UIState) bool { return !s.View.HideSrc }, "Show source host", false, action{NewMsg: true}},
		{"d", nil, []term.Key{'d'}, func(s UIState) bool { return s.View.HideDst }, "Hide dest host", false, action{NewMsg: true}},
		{"d d", nil, []term.Key{'d', 'd'}, func(s UIState) bool { return !s.View.HideDst }, "Show dest host", false, action{NewMsg: true}},
		{"S off", nil, []term.Key{'S'}, ports(table.PortsSource), "Port display SOURCE", false, action{NewMsg: true}},
		{"S source", withPorts(table.PortsSource), []term.Key{'S'}, ports(table.PortsOff), "Port display OFF", false, action{NewMsg: true}},
		{"S dest", withPorts(table.PortsDest), []term.Key{'S'}, ports(table.PortsOn), "Port display ON", false, action{NewMsg: true}},
		{"S on", withPorts(table.PortsOn), []term.Key{'S'}, ports(table.PortsDest), "Port display DEST", false, action{NewMsg: true}},
		{"D off", nil, []term.Key{'D'}, ports(table.PortsDest), "Port display DEST", false, action{NewMsg: true}},
		{"D dest", withPorts(table.PortsDest), []term.Key{'D'}, ports(table.PortsOff), "Port display OFF", false, action{NewMsg: true}},
		{"D source", withPorts(table.PortsSource), []term.Key{'D'}, ports(table.PortsOn), "Port display ON", false, action{NewMsg: true}},
		{"D on", withPorts(table.PortsOn), []term.Key{'D'}, ports(table.PortsSource), "Port display SOURCE", false, action{NewMsg: true}},
		{"p off", nil, []term.Key{'p'}, ports(table.PortsOn), "Port display ON", false, action{NewMsg: true}},
		{"p source", withPorts(table.PortsSource), []term.Key{'p'}, ports(table.PortsOff), "Port display OFF", false, action{NewMsg: true}},
		{"p on", withPorts(table.PortsOn), []term.Key{'p'}, ports(table.PortsOff), "Port display OFF", false, action{NewMsg: true}},
		{"t", nil, []term.Key{'t'}, mode(table.OneLineBoth), "One line per host", false, action{NewMsg: true}},
		{"t t", nil, []term.Key{'t', 't'}, mode(table.OneLineRecv), "Received traffic only", false, action{NewMsg: true}},
		{"t t t", nil, []term.Key{'t', 't', 't'}, mode(table.OneLineSent), "Sent traffic only", false, action{NewMsg: true}},
		{"t t t t", nil, []term.Key{'t', 't', 't', 't'}, mode(table.TwoLine), "Two lines per host", false, action{NewMsg: true}},
		{"b", nil, []term.Key{'b'}, func(s UIState) bool { return !s.Bars }, "Bars off", false, action{NewMsg: true}},
		{"w", nil, []term.Key{'w'}, func(s UIState) bool { return s.Bonds }, "Bond view on", false, action{NewMsg: true}},
		{"w w", nil, []term.Key{'w', 'w'}, func(s UIState) bool { return !s.Bonds }, "Bond view off", false, action{NewMsg: true}},
		{"b b", nil, []term.Key{'b', 'b'}, func(s UIState) bool { return s.Bars }, "Bars on", false, action{NewMsg: true}},
		{"B", nil, []term.Key{'B'}, barWin(table.Win40s), "Bars show 40s average", false, action{NewMsg: true}},
		{"B B", nil, []term.Key{'B', 'B'}, barWin(table.Win2s), "Bars show 2s average", false, action{NewMsg: true}},
		{"B B B", nil, []term.Key{'B', 'B', 'B'}, barWin(table.Win10s), "Bars show 10s average", false, action{NewMsg: true}},
		{"T", nil, []term.Key{'T'}, func(s UIState) bool { return s.Totals }, "Show cumulative totals", false, action{NewMsg: true}},
		{"T T", nil, []term.Key{'T', 'T'}, func(s UIState) bool { return !s.Totals }, "Hide cumulative totals", false, action{NewMsg: true}},
		{"L", nil, []term.Key{'L'}, func(s UIState) bool { return s.Log }, "Logarithmic scale", false, action{NewMsg: true}},
		{"L L", nil, []term.Key{'L', 'L'}, func(s UIState) bool { return !s.Log }, "Linear scale", false, action{NewMsg: true}},
		{"P", nil, []term.Key{'P'}, func(s UIState) bool { return s.Paused }, "Display paused", true, action{NewMsg: true}},
		{"P P", nil, []term.Key{'P', 'P'}, func(s UIState) bool { return !s.Paused }, "Display unpaused", false, action{NewMsg: true}},
		{"o", nil, []term.Key{'o'}, func(s UIState) bool { return s.Frozen }, "Order frozen", true, action{NewMsg: true, Freeze: true}},
		{"o o", nil, []term.Key{'o', 'o'}, func(s UIState) bool { return !s.Frozen }, "Order unfrozen", false, action{NewMsg: true}},
		{"s while frozen refreezes", nil, []term.Key{'o', 's'}, func(s UIState) bool { return s.Frozen && s.View.HideSrc }, "Hide source host", false, action{NewMsg: true, Freeze: true}},
		{"1", nil, []term.Key{'1'}, order(display.Sort2s), "Sort by col 1", false, action{NewMsg: true}},
		{"2", nil, []term.Key{'3', '2'}, order(display.Sort10s), "Sort by col 2", false, action{NewMsg: true}},
		{"3", nil, []term.Key{'3'}, order(display.Sort40s), "Sort by col 3", false, action{NewMsg: true}},
		{"<", nil, []term.Key{'<'}, order(display.SortSource), "Sort by source", false, action{NewMsg: true}},
		{">", nil, []term.Key{'>'}, order(display.SortDest), "Sort by dest", false, action{NewMsg: true}},
		{"j j", nil, []term.Key{'j', 'j'}, func(s UIState) bool { return s.Scroll == 2 }, "", false, action{}},
		{"k stops at 0", nil, []term.Key{'j', 'k', 'k'}, func(s UIState) bool { return s.Scroll == 0 }, "", false, action{}},
		{"!", nil, []term.Key{'!'}, nil, "Sorry, subshells have been disabled.", false, action{NewMsg: true}},
		{"^L", nil, []term.Key{term.KeyCtrlL}, nil, "", false, action{Repaint: true}},
		{"H", nil, []term.Key{'H'}, nil, helpHint, false, action{NewMsg: true}},
		{"Esc", nil, []term.Key{term.KeyEsc}, nil, helpHint, false, action{NewMsg: true}},
		{"arrow", nil, []term.Key{term.KeyUp}, nil, helpHint, false, action{NewMsg: true}},
		{"a message replaces a sticky one", nil, []term.Key{'P', 'n'}, func(s UIState) bool { return s.Paused }, "DNS resolution off", false, action{NewMsg: true}},
		{"l opens the screen filter prompt", nil, []term.Key{'l'}, func(s UIState) bool {
			return s.Edit == EditScreenFilter && s.Editor.Prompt == PromptScreenFilter
		}, "", false, action{}},
		{"l takes a regexp", nil, append([]term.Key{'l'}, keysOf(`0\.(3|200)`+"\r")...), func(s UIState) bool {
			return s.Edit == EditNone && s.FilterText == `0\.(3|200)` && s.Filter.MatchString("10.99.0.200   ")
		}, "", false, action{}},
		{"l is case-insensitive", nil, append([]term.Key{'l'}, keysOf("HOSTA\r")...), func(s UIState) bool { return s.Filter.MatchString("hosta.lan") }, "", false, action{}},
		{"l with a bad regexp keeps the filter", withFilter(`0\.3`), append([]term.Key{'l', term.KeyCtrlU}, keysOf("(abc\r")...), func(s UIState) bool {
			return s.FilterText == `0\.3` && s.Filter != nil
		}, "Invalid regexp: missing closing ): `(abc`", false, action{NewMsg: true}},
		{"l empty clears", withFilter(`0\.3`), []term.Key{'l', term.KeyCtrlU, term.KeyEnter}, func(s UIState) bool { return s.Filter == nil && s.FilterText == "" }, "", false, action{}},
		{"l Esc keeps the old filter", withFilter(`0\.3`), []term.Key{'l', term.KeyCtrlU, 'x', term.KeyEsc}, func(s UIState) bool { return s.FilterText == `0\.3` && s.Edit == EditNone }, "", false, action{}},
		{"l ^G cancels", nil, []term.Key{'l', 'x', term.KeyCtrlG}, func(s UIState) bool { return s.Filter == nil && s.Edit == EditNone }, "", false, action{}},
		{"keys go to the prompt", nil, []term.Key{'l', 'q'}, func(s UIState) bool { return s.Editor.Text == "q" }, "", false, action{}},
		{"the prompt beeps at Tab", nil, []term.Key{'l', term.KeyTab}, func(s UIState) bool { return s.Edit == EditScreenFilter }, "", false, action{Beep: true}},
		{"f opens the filter prompt with the filter", withCode("port 80"), []term.Key{'f'}, func(s UIState) bool {
			return s.Edit == EditFilterCode && s.Editor.Text == "port 80" && s.Editor.Pos == 7
		}, "", false, action{}},
		{"f asks to install", nil, append([]term.Key{'f'}, keysOf(" udp \r")...), func(s UIState) bool { return s.Edit == EditNone }, "", false, action{SetFilter: true, Filter: "udp"}},
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

func keysOf(s string) []term.Key {
	var ks []term.Key
	for i := 0; i < len(s); i++ {
		ks = append(ks, term.Key(s[i]))
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
func order(o display.Order) func(UIState) bool { return func(s UIState) bool { return s.Order == o } }
func withFilter(text string) func(UIState) UIState {
	return func(s UIState) UIState {
		re, err := CompileFilter(text)
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
		st.key(k)
	}
	if st != before {
		t.Errorf("Key changed its receiver: %+v", st)
	}
}

func TestFilterResult(t *testing.T) {
	st := DefaultUIState()
	st.FilterCode = "tcp"
	ok, a := st.filterResult("udp", nil)
	if ok.FilterCode != "udp" || ok.Msg != "Installed new filter" || !a.NewMsg {
		t.Errorf("success: code %q msg %q", ok.FilterCode, ok.Msg)
	}
	bad, _ := st.filterResult("port foo", errString("unknown port 'foo'\nsecond line"))
	if bad.FilterCode != "tcp" || bad.Msg != "unknown port 'foo' second line" {
		t.Errorf("failure: code %q msg %q", bad.FilterCode, bad.Msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestExpireMsg(t *testing.T) {
	st := DefaultUIState()
	st, _ = st.key('n')
	if st.expireMsg().Msg != "" {
		t.Error("a plain hint did not expire")
	}
	st, _ = st.key('P')
	if st.expireMsg().Msg != "Display paused" {
		t.Error("Display paused expired")
	}
}
