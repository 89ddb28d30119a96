package screen

import (
	"regexp"
	"strings"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// UIState is everything the keys change (docs/iftop.md#keys). It is a value:
// Key returns the next state and what the screen loop must do, so the whole
// key handling is one pure function, tested as a state machine.
type UIState struct {
	View      table.View     // ports and hidden hosts (P S D p s d)
	Order     display.Order  // 1 2 3 < >
	Mode      table.LineMode // t
	DNS       bool           // n: host names from the Namer
	PortNames bool           // N: service names
	Bars      bool           // b
	BarWin    int            // B: the average the bars show (table.Win10s …)
	Totals    bool           // T: the cumulative column
	Log       bool           // L: logarithmic scale
	Paused    bool           // P: rows and rates stay as they were
	Frozen    bool           // o: the order of the rows is kept
	Help      bool           // h ?
	Scroll    int            // j k: rows skipped at the top
	Group     group.By       // g: what a row is (host pairs, services, networks, VLANs, links)
	Strip     bool           // i: the link strip (drawn when two or more links are captured)
	Link      string         // I: the one link whose part of each flow the list shows; "" for all
	Bonds     bool           // w: the bond view instead of the flows

	Filter     *regexp.Regexp // l: screen filter; nil shows every row
	FilterText string         // its source, the l prompt's initial text
	FilterCode string         // the capture filter, the f prompt's initial text

	Msg       string // status hint on row 0; "" for none
	MsgSticky bool   // kept until replaced ("Display paused", "Order frozen")

	Edit   EditTarget  // which prompt is open
	Editor term.Editor // its state
}

// EditTarget says what the line editor is editing.
type EditTarget uint8

// Values of EditTarget.
const (
	EditNone         EditTarget = iota
	EditFilterCode              // f: the capture filter
	EditScreenFilter            // l: the screen filter regexp
)

// Prompts of the line editor, as iftop shows them.
const (
	PromptFilterCode   = "Net filter> "
	PromptScreenFilter = "Screen filter> "
)

// action is what the screen loop does after a key, besides drawing the new
// state.
type action struct {
	Quit      bool   // q, Ctrl-C
	Suspend   bool   // Ctrl-Z: stop the process until fg (raw mode makes it a key)
	Repaint   bool   // ^L: clear the terminal and redraw every cell
	NewMsg    bool   // Msg changed: restart its expiry clock
	Freeze    bool   // capture the current order (o, or the view changed while frozen)
	Beep      bool   // the line editor refused a key
	SetFilter bool   // f accepted: install FilterCode, then call FilterResult
	Filter    string // the expression to install
	CycleLink bool   // I: move Link to the next link of the latest snapshot (cycleLink)
}

// helpHint is the answer to a key fastop does not know (iftop's words,
// although H itself is not a help key).
const helpHint = "Press H or ? for help"

// DefaultUIState is iftop's state with no option and no ~/.iftoprc, and
// fastop's link strip on.
func DefaultUIState() UIState {
	return UIState{DNS: true, PortNames: true, Bars: true, BarWin: table.Win10s, Strip: true}
}

func (s *UIState) say(msg string) action {
	s.Msg, s.MsgSticky = msg, false
	return action{NewMsg: true}
}

func (s *UIState) sayOnOff(on bool, onMsg, offMsg string) action {
	return s.say(pick(on, onMsg, offMsg))
}

func pick(on bool, onMsg, offMsg string) string {
	if on {
		return onMsg
	}
	return offMsg
}

// setView changes the aggregation; while the order is frozen the frozen
// list must be rebuilt under the new keys.
func (s *UIState) setView(v table.View, msg string) action {
	s.View = v
	a := s.say(msg)
	a.Freeze = s.Frozen
	return a
}

var portMsg = [...]string{
	table.PortsOff:    "Port display OFF",
	table.PortsSource: "Port display SOURCE",
	table.PortsDest:   "Port display DEST",
	table.PortsOn:     "Port display ON",
}

var lineMsg = [...]string{
	table.TwoLine:     "Two lines per host",
	table.OneLineBoth: "One line per host",
	table.OneLineRecv: "Received traffic only",
	table.OneLineSent: "Sent traffic only",
}

// Key applies one key press (docs/iftop.md#keys). While a prompt is open
// every key goes to the line editor.
func (s UIState) key(k term.Key) (UIState, action) {
	if s.Edit != EditNone {
		return s.editKey(k)
	}
	var a action
	switch k {
	case 'q', term.KeyCtrlC:
		a.Quit = true
	case term.KeyCtrlZ:
		a.Suspend = true
	case 'h', '?':
		s.Help = !s.Help
	case 'n':
		s.DNS = !s.DNS
		a = s.sayOnOff(s.DNS, "DNS resolution on", "DNS resolution off")
	case 'N':
		s.PortNames = !s.PortNames
		a = s.sayOnOff(s.PortNames, "Port resolution on", "Port resolution off")
	case 's':
		v := s.View
		v.HideSrc = !v.HideSrc
		a = s.setView(v, pick(v.HideSrc, "Hide source host", "Show source host"))
	case 'd':
		v := s.View
		v.HideDst = !v.HideDst
		a = s.setView(v, pick(v.HideDst, "Hide dest host", "Show dest host"))
	case 'S', 'D', 'p':
		v := s.View
		v.Ports = nextPorts(v.Ports, k)
		a = s.setView(v, portMsg[v.Ports])
	case 't':
		s.Mode = (s.Mode + 1) % 4
		a = s.say(lineMsg[s.Mode])
	case 'b':
		s.Bars = !s.Bars
		a = s.sayOnOff(s.Bars, "Bars on", "Bars off")
	case 'B':
		switch s.BarWin {
		case table.Win10s:
			s.BarWin = table.Win40s
			a = s.say("Bars show 40s average")
		case table.Win40s:
			s.BarWin = table.Win2s
			a = s.say("Bars show 2s average")
		default:
			s.BarWin = table.Win10s
			a = s.say("Bars show 10s average")
		}
	case 'T':
		s.Totals = !s.Totals
		a = s.sayOnOff(s.Totals, "Show cumulative totals", "Hide cumulative totals")
	case 'L':
		s.Log = !s.Log
		a = s.sayOnOff(s.Log, "Logarithmic scale", "Linear scale")
	case 'P':
		s.Paused = !s.Paused
		a = s.sayOnOff(s.Paused, "Display paused", "Display unpaused")
		s.MsgSticky = s.Paused
	case 'o':
		s.Frozen = !s.Frozen
		a = s.sayOnOff(s.Frozen, "Order frozen", "Order unfrozen")
		s.MsgSticky = s.Frozen
		a.Freeze = s.Frozen
	case '1':
		s.Order = display.Sort2s
		a = s.say("Sort by col 1")
	case '2':
		s.Order = display.Sort10s
		a = s.say("Sort by col 2")
	case '3':
		s.Order = display.Sort40s
		a = s.say("Sort by col 3")
	case '<':
		s.Order = display.SortSource
		a = s.say("Sort by source")
	case '>':
		s.Order = display.SortDest
		a = s.say("Sort by dest")
	case 'j':
		s.Scroll++
	case 'k':
		if s.Scroll > 0 {
			s.Scroll--
		}
	case 'l':
		s.Edit, s.Editor = EditScreenFilter, term.NewEditor(PromptScreenFilter, s.FilterText)
	case 'f':
		s.Edit, s.Editor = EditFilterCode, term.NewEditor(PromptFilterCode, s.FilterCode)
	case 'i':
		s.Strip = !s.Strip
		a = s.sayOnOff(s.Strip, "Link strip on", "Link strip off")
	case 'I':
		a.CycleLink = true
	case 'w':
		s.Bonds = !s.Bonds
		a = s.sayOnOff(s.Bonds, "Bond view on", "Bond view off")
	case '!':
		a = s.say("Sorry, subshells have been disabled.")
	case 'g':
		a = s.cycleGroup()
	case term.KeyCtrlL:
		a.Repaint = true
	default:
		a = s.say(helpHint)
	}
	return s, a
}

// cycleLink is the I key once the screen loop knows the links (the names
// of the latest snapshot's interfaces, in order): all links → the first →
// … → the last → all links. With fewer than two links there is nothing to
// choose; a link that is gone counts as the last.
func (s UIState) cycleLink(links []string) (UIState, action) {
	if len(links) < 2 {
		s.Link = ""
		return s, s.say("One link captured: the flows are all on it")
	}
	next := 0
	if s.Link != "" {
		next = len(links)
		for i, l := range links {
			if l == s.Link {
				next = i + 1
				break
			}
		}
	}
	var a action
	if next >= len(links) {
		s.Link = ""
		a = s.say("Flows of all links")
	} else {
		s.Link = links[next]
		a = s.say("Flows on " + term.Clean(s.Link) + " only")
	}
	// A frozen order is taken again from the rows this link shows.
	a.Freeze = s.Frozen
	return s, a
}

// nextPorts is iftop's port-display cycle for S, D and p.
func nextPorts(p table.PortDisplay, k term.Key) table.PortDisplay {
	switch k {
	case 'S': // the source port flips
		switch p {
		case table.PortsOff:
			return table.PortsSource
		case table.PortsSource:
			return table.PortsOff
		case table.PortsDest:
			return table.PortsOn
		default:
			return table.PortsDest
		}
	case 'D': // the destination port flips
		switch p {
		case table.PortsOff:
			return table.PortsDest
		case table.PortsDest:
			return table.PortsOff
		case table.PortsSource:
			return table.PortsOn
		default:
			return table.PortsSource
		}
	}
	if p == table.PortsOff {
		return table.PortsOn
	}
	return table.PortsOff
}

func (s UIState) editKey(k term.Key) (UIState, action) {
	var res term.EditResult
	s.Editor, res = s.Editor.Key(k)
	var a action
	switch res {
	case term.EditBeep:
		a.Beep = true
	case term.EditCancel:
		s.Edit = EditNone
	case term.EditAccept:
		target := s.Edit
		s.Edit = EditNone
		text := s.Editor.Text
		if target == EditFilterCode {
			a.SetFilter, a.Filter = true, strings.TrimSpace(text)
			break
		}
		a = s.setScreenFilter(text)
	}
	return s, a
}

// setScreenFilter installs a screen filter: Go's regexp syntax, matched
// case-insensitively against the two host fields of a row. An empty text
// clears the filter. A text that does not compile keeps the filter in
// place and says why (iftop drops the old filter silently).
func (s *UIState) setScreenFilter(text string) action {
	if text == "" {
		s.Filter, s.FilterText = nil, ""
		return action{}
	}
	re, err := CompileFilter(text)
	if err != nil {
		return s.say(err.Error())
	}
	s.Filter, s.FilterText = re, text
	return action{}
}

// CompileFilter compiles a screen filter. The error is the status
// message to show: "Invalid regexp: " and what is wrong.
func CompileFilter(text string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(text); err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		return nil, screenFilterError("Invalid regexp: " + msg)
	}
	return regexp.MustCompile("(?i)" + text), nil
}

type screenFilterError string

func (e screenFilterError) Error() string { return string(e) }

// FilterResult records how installing the capture filter expr went: on
// success it becomes the f prompt's text and the hint says "Installed new
// filter"; on failure the old one stays and the hint shows the error.
func (s UIState) filterResult(expr string, err error) (UIState, action) {
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		return s, s.say(msg)
	}
	s.FilterCode = expr
	return s, s.say("Installed new filter")
}

// ExpireMsg clears a status hint that is not sticky; the screen loop calls
// it when the hint has been up for msgTime.
func (s UIState) expireMsg() UIState {
	if !s.MsgSticky {
		s.Msg = ""
	}
	return s
}

// msgTime is how long a status hint stays up (iftop: 2 to 3 s).
const msgTime = 2500e6 // nanoseconds
