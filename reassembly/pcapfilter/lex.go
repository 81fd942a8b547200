package pcapfilter

import "fmt"

// tokKind is the kind of a lexical token.
type tokKind uint8

const (
	tokEOF    tokKind = iota
	tokWord           // a keyword or a value: letters, digits and . : / - _
	tokLParen         // (
	tokRParen         // )
	tokNot            // not, !
	tokAnd            // and, &&
	tokOr             // or, ||
)

// token is one lexical token; col is its 1-based byte column.
type token struct {
	kind tokKind
	text string
	col  int
}

// maxTokens bounds the tokens of one expression, so that a hostile or
// runaway expression cannot make the parser recurse without end. Real
// filters have a few dozen.
const maxTokens = 4096

// isWordByte reports whether c can be part of a word. '-' joins a port
// range, ':' and '.' make addresses, '/' a prefix length.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == ':' || c == '/' || c == '-' || c == '_'
}

// lex splits expr into tokens. Characters that only tcpdump's arithmetic
// and byte-offset syntax uses ([ ] = < > + * & |...) are refused here.
func lex(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		col := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(':
			toks = append(toks, token{tokLParen, "(", col})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", col})
			i++
		case c == '!' && (i+1 >= len(expr) || expr[i+1] != '='):
			toks = append(toks, token{tokNot, "!", col})
			i++
		case c == '&' && i+1 < len(expr) && expr[i+1] == '&':
			toks = append(toks, token{tokAnd, "&&", col})
			i += 2
		case c == '|' && i+1 < len(expr) && expr[i+1] == '|':
			toks = append(toks, token{tokOr, "||", col})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(expr) && isWordByte(expr[j]) {
				j++
			}
			w := expr[i:j]
			kind := tokWord
			switch w {
			case "and":
				kind = tokAnd
			case "or":
				kind = tokOr
			case "not":
				kind = tokNot
			}
			toks = append(toks, token{kind, w, col})
			i = j
		default:
			what := fmt.Sprintf("%q", string(c))
			if c >= 0x80 {
				what = "a non-ASCII character"
			}
			kind := ErrSyntax
			if c == '[' || c == '=' || c == '<' || c == '>' || c == '&' || c == '|' || c == '+' || c == '*' || c == '%' || c == '^' || c == '\\' {
				kind = ErrUnsupported // arithmetic, byte offsets, escaped names
			}
			return nil, &SyntaxError{Expr: expr, Col: col, Msg: "unexpected " + what, Kind: kind}
		}
		if len(toks) > maxTokens {
			return nil, &SyntaxError{Expr: expr, Col: col, Msg: fmt.Sprintf("more than %d tokens", maxTokens), Kind: ErrSyntax}
		}
	}
	toks = append(toks, token{tokEOF, "", len(expr) + 1})
	return toks, nil
}
