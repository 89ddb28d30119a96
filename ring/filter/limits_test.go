package filter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/decode"
)

// compileBounded compiles expr, failing the test rather than hanging if it
// does not return within a generous bound (this is not a timing assertion:
// the limits are what the test checks).
func compileBounded(t *testing.T, expr string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Compile(expr, Options{Link: decode.LinkEthernet, IPOnly: true, Names: debianNames()})
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		t.Fatalf("Compile of a %d-byte expression did not return", len(expr))
		return nil
	}
}

func chain(n int, term func(i int) string, sep string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(term(i))
	}
	return b.String()
}

// TestLimits: hostile expressions (the ones from the hardening review: 60,000
// nested parentheses took over 30 s, a 10,000-term port chain 14 s and
// 1.3 GB) are refused by the parser's depth and size limits with one line
// naming the limit, and expressions just inside the limits still compile.
func TestLimits(t *testing.T) {
	portChain := func(n int) string {
		return chain(n, func(i int) string { return fmt.Sprintf("port %d", i+1) }, " or ")
	}
	tests := []struct {
		name, expr string
		want       string // a part of the error; "" when it compiles; "-" for any error but a limit
	}{
		// The review's case: the size limit answers before the depth one.
		{"60000 parentheses", strings.Repeat("(", 60000) + "tcp" + strings.Repeat(")", 60000),
			"column 16385: more than 16384 tokens"},
		{"5000 parentheses", strings.Repeat("(", 5000) + "tcp" + strings.Repeat(")", 5000),
			"column 257: nested deeper than 256 levels"},
		{"257 parentheses", strings.Repeat("(", 257) + "tcp" + strings.Repeat(")", 257),
			"column 257: nested deeper than 256 levels"},
		{"256 parentheses", strings.Repeat("(", 256) + "tcp" + strings.Repeat(")", 256), ""},
		{"5000 nots", strings.Repeat("not ", 5000) + "tcp", "nested deeper than 256 levels"},
		{"5000 ! after or", "udp or " + strings.Repeat("! ", 5000) + "tcp", "nested deeper than 256 levels"},
		{"arithmetic parentheses", "ip[" + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000) + "] = 1", "nested deeper than 256 levels"},
		{"unary minus", "ip[0] = " + strings.Repeat("-", 5000) + "1", "nested deeper than 256 levels"},
		{"brackets", strings.Repeat("ip[", 5000) + "0" + strings.Repeat("]", 5000) + " = 1", "nested deeper than 256 levels"},
		{"modulo chain", "ip[0] = 1" + strings.Repeat(" % 1", 5000), "nested deeper than 256 levels"},
		{"10000-term port chain", portChain(10000), "more than 16384 tokens"},
		{"60000 bytes of one name", "host " + strings.Repeat("a", 60000), "-"},
		// Under the token limit, but far beyond what fits the kernel: refused
		// before the optimiser, whose time grows faster than the program.
		{"5000-term port chain", portChain(5000), "branches before optimising, more than fastop's limit of 16384"},
		// The largest chain of its kind that fits the kernel.
		{"2000-term tcp dst port chain", chain(2000, func(i int) string { return fmt.Sprintf("tcp dst port %d", i+1) }, " or "), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := compileBounded(t, tt.expr)
			if tt.want == "-" {
				if errors.Is(err, ErrLimit) {
					t.Fatalf("limit error %v for an expression inside the limits", err)
				}
				return
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v, want it compiled", err)
				}
				return
			}
			if err == nil {
				t.Fatal("compiled, want a limit error")
			}
			if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrTooComplex) {
				t.Errorf("error %v is not ErrLimit (and ErrTooComplex)", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "filter: ") {
				t.Errorf("error %q, want one line starting \"filter: \" containing %q", msg, tt.want)
			}
		})
	}
}
