package term

// Editor is iftop's one-line editor for the f and l prompts
// (docs/iftop.md#line-editor): the text and the cursor. It is a value; Key
// returns the next one, so the editor is tested as a state machine.
type Editor struct {
	Prompt string // "Net filter> " or "Screen filter> "
	Text   string // printable ASCII only
	Pos    int    // cursor, 0…len(Text)
}

// EditResult says what a key did to the editor.
type EditResult uint8

// Values of EditResult.
const (
	EditContinue EditResult = iota // still editing
	EditAccept                     // Enter: use Text
	EditCancel                     // Esc or ^G: keep the old value
	EditBeep                       // a key the editor does not take (Tab, other controls, a full line)
)

// maxEditLen bounds the text; a filter expression or a regexp is far
// shorter.
const maxEditLen = 1024

// NewEditor starts editing text with the cursor at its end.
func NewEditor(prompt, text string) Editor {
	return Editor{Prompt: prompt, Text: text, Pos: len(text)}
}

// Key applies one key: Left/Right, Home or ^A, End or ^E, Delete, Backspace
// (DEL or ^H), ^U clears the line, ^W deletes the word before the cursor,
// printable characters are inserted, Enter accepts, Esc or ^G cancels.
func (e Editor) Key(k Key) (Editor, EditResult) {
	e.Pos = min(max(e.Pos, 0), len(e.Text))
	switch k {
	case KeyEnter, KeyLF:
		return e, EditAccept
	case KeyEsc, KeyCtrlG:
		return e, EditCancel
	case KeyLeft:
		if e.Pos > 0 {
			e.Pos--
		}
	case KeyRight:
		if e.Pos < len(e.Text) {
			e.Pos++
		}
	case KeyHome, KeyCtrlA:
		e.Pos = 0
	case KeyEnd, KeyCtrlE:
		e.Pos = len(e.Text)
	case KeyDelete:
		if e.Pos < len(e.Text) {
			e.Text = e.Text[:e.Pos] + e.Text[e.Pos+1:]
		}
	case KeyBackspace, KeyCtrlH:
		if e.Pos > 0 {
			e.Text = e.Text[:e.Pos-1] + e.Text[e.Pos:]
			e.Pos--
		}
	case KeyCtrlU:
		e.Text, e.Pos = "", 0
	case KeyCtrlW:
		i := e.Pos
		for i > 0 && e.Text[i-1] == ' ' {
			i--
		}
		for i > 0 && e.Text[i-1] != ' ' {
			i--
		}
		e.Text = e.Text[:i] + e.Text[e.Pos:]
		e.Pos = i
	default:
		if k < 0x20 || k >= 0x7f || len(e.Text) >= maxEditLen {
			return e, EditBeep
		}
		e.Text = e.Text[:e.Pos] + string(rune(k)) + e.Text[e.Pos:]
		e.Pos++
	}
	return e, EditContinue
}

// View returns what row 0 shows for a screen w columns wide: the prompt and
// the part of the text around the cursor, and the cursor's column. A text
// too long for the row scrolls so that the cursor stays visible.
func (e Editor) View(w int) (line string, cursor int) {
	room := w - len(e.Prompt) - 1 // one cell for the cursor past the end
	if room < 1 {
		// A prompt wider than the screen: show the text alone.
		room = max(w-1, 1)
		start := max(0, e.Pos-room)
		end := min(len(e.Text), start+room)
		return e.Text[start:end], e.Pos - start
	}
	start := 0
	if e.Pos > room {
		start = e.Pos - room
	}
	end := min(len(e.Text), start+room)
	return e.Prompt + e.Text[start:end], len(e.Prompt) + e.Pos - start
}
