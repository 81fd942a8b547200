package pcapfilter

import "fmt"

// Filter is a parsed filter expression, ready to compile for any link
// type. The zero Filter is not valid; a nil *Filter accepts everything
// where the package takes one.
type Filter struct {
	expr string
	root node
}

// Parse parses a tcpdump filter expression of the supported subset (see
// the package doc). An empty expression (only blanks) gives a nil Filter
// and no error: no filtering. The error is a *SyntaxError.
func Parse(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	if toks[0].kind == tokEOF {
		return nil, nil
	}
	p := &parser{src: expr, toks: toks}
	root, _, err := p.expr(qual{bad: true})
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.unexpected(t, "and, or or the end")
	}
	return &Filter{expr: expr, root: root}, nil
}

// String returns the expression as given.
func (f *Filter) String() string { return f.expr }

// Canonical returns the expression in canonical form: every qualifier
// spelt out and every and/or parenthesised. It parses back to the same
// filter.
func (f *Filter) Canonical() string { return f.root.String() }

// parser is a recursive-descent parser of the subset. It carries tcpdump's
// qualifier context (the qual parameters) the way libpcap's yacc grammar
// does with $<blk>0, so that bare values after and/or mean what they mean
// to tcpdump.
type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// expr = term { (and | or) (term | id) }. and and or have the same
// precedence and group to the left, as in tcpdump. The qual returned is
// that of the last term, the context of a bare value that follows.
func (p *parser) expr(ctx qual) (node, qual, error) {
	n, q, err := p.term(ctx)
	if err != nil {
		return nil, q, err
	}
	for t := p.peek(); t.kind == tokAnd || t.kind == tokOr; t = p.peek() {
		p.next()
		var m node
		if p.valueAhead() {
			m, q, err = p.id(q)
		} else {
			m, q, err = p.term(q)
		}
		if err != nil {
			return nil, q, err
		}
		if t.kind == tokAnd {
			n = andNode{n, m}
		} else {
			n = orNode{n, m}
		}
	}
	return n, q, nil
}

// valueAhead reports whether, past any not and (, the next token is a
// value rather than a keyword: what follows and/or is then a bare value
// continuing the previous primitive.
func (p *parser) valueAhead() bool {
	for j := p.i; j < len(p.toks); j++ {
		switch t := p.toks[j]; t.kind {
		case tokNot, tokLParen:
			continue
		case tokWord:
			return !isKeyword(t.text)
		default:
			return false
		}
	}
	return false
}

// term = not term | ( expr ) | primitive.
func (p *parser) term(ctx qual) (node, qual, error) {
	t := p.peek()
	switch t.kind {
	case tokNot:
		p.next()
		x, q, err := p.term(ctx)
		if err != nil {
			return nil, q, err
		}
		return notNode{x}, q, nil
	case tokLParen:
		p.next()
		x, _, err := p.expr(ctx)
		if err != nil {
			return nil, ctx, err
		}
		if r := p.next(); r.kind != tokRParen {
			return nil, ctx, p.unexpected(r, ")")
		}
		// libpcap: a parenthesised term passes on the context it was
		// given, not that of its last primitive.
		return x, ctx, nil
	case tokWord:
		return p.primitive()
	}
	return nil, ctx, p.unexpected(t, "a primitive (host, net, port, portrange, ip, ip6, tcp, udp), not or (")
}

// primitive = proto | [proto] [dir] [addr] id, with at least one of dir
// and addr before the id.
func (p *parser) primitive() (node, qual, error) {
	first := p.peek()
	var q qual
	if pr, ok := protoWord(first.text); ok {
		p.next()
		q.proto = pr
	}
	if t := p.peek(); t.kind == tokWord && (t.text == "src" || t.text == "dst") {
		p.next()
		q.dir = dirSrc
		if t.text == "dst" {
			q.dir = dirDst
		}
		if op := p.peek(); op.kind == tokAnd || op.kind == tokOr {
			// "src or dst": only a direction can follow, the primitive
			// being incomplete.
			p.next()
			other := p.next()
			want := "dst"
			if q.dir == dirDst {
				want = "src"
			}
			if other.kind != tokWord || other.text != want {
				return nil, q, p.unexpected(other, want+" (as in src "+op.text+" dst)")
			}
			q.dir = dirOr
			if op.kind == tokAnd {
				q.dir = dirAnd
			}
		}
	}
	if t := p.peek(); t.kind == tokWord {
		if a, ok := addrWord(t.text); ok {
			p.next()
			q.addr = a
		}
	}
	if q.dir == dirAny && q.addr == addrDefault {
		if q.proto != protoNone {
			return protoNode{q.proto}, qual{bad: true}, nil
		}
		return nil, q, p.badWord(first)
	}
	x, _, err := p.id(q)
	return x, q, err
}

// id = not id | ( id { (and | or) id } ) | value, every value taking the
// qualifiers ctx.
func (p *parser) id(ctx qual) (node, qual, error) {
	t := p.next()
	switch t.kind {
	case tokNot:
		x, _, err := p.id(ctx)
		if err != nil {
			return nil, ctx, err
		}
		return notNode{x}, ctx, nil
	case tokLParen:
		x, _, err := p.id(ctx)
		if err != nil {
			return nil, ctx, err
		}
		for op := p.peek(); op.kind == tokAnd || op.kind == tokOr; op = p.peek() {
			p.next()
			y, _, err := p.id(ctx)
			if err != nil {
				return nil, ctx, err
			}
			if op.kind == tokAnd {
				x = andNode{x, y}
			} else {
				x = orNode{x, y}
			}
		}
		if r := p.next(); r.kind != tokRParen {
			return nil, ctx, p.unexpected(r, ")")
		}
		return x, ctx, nil
	case tokWord:
		if isKeyword(t.text) {
			return nil, ctx, p.unexpected(t, "a value")
		}
		x, err := p.value(ctx, t)
		return x, ctx, err
	}
	return nil, ctx, p.unexpected(t, "a value")
}

// badWord explains a word that cannot start a primitive.
func (p *parser) badWord(t token) error {
	switch {
	case unsupportedWords[t.text]:
		return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf("%q is tcpdump syntax outside ntlmscope's filter subset", t.text), Kind: ErrUnsupported}
	case isKeyword(t.text):
		return p.unexpected(t, "a complete primitive")
	case looksLikeName(t.text):
		return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf("unknown word %q: keywords are lower case, and host names need `host` (and are not resolved: give an IP address)", t.text), Kind: ErrSyntax}
	}
	return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf("%q needs a qualifier before it (host, net, port, portrange)", t.text), Kind: ErrSyntax}
}

// unexpected is a syntax error at t.
func (p *parser) unexpected(t token, want string) error {
	if t.kind == tokWord && unsupportedWords[t.text] {
		return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf("%q is tcpdump syntax outside ntlmscope's filter subset", t.text), Kind: ErrUnsupported}
	}
	got := fmt.Sprintf("%q", t.text)
	if t.kind == tokEOF {
		got = "the end of the expression"
	}
	return &SyntaxError{Expr: p.src, Col: t.col, Msg: fmt.Sprintf("expected %s, found %s", want, got), Kind: ErrSyntax}
}
