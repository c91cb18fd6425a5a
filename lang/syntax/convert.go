package syntax

import "github.com/flowc-dev/flowc/lang/file"

// Conversion from the grammar's participle structs (grammar.go) to the
// typed AST (ast.go), once per file, after recovery has filled every
// block.

func at(n gnode) node {
	start, end := tokSpan(n)
	return node{start: start, end: end}
}

func convertItems(items []*gItem) []Stmt {
	out := make([]Stmt, 0, len(items))
	for _, it := range items {
		switch {
		case it.Header != nil:
			out = append(out, convertHeader(it.Header))
		case it.Section != nil:
			s := it.Section
			out = append(out, &Section{node: at(s), Name: convertName(s.Name), Body: convertBlock(s.Body)})
		case it.Chain != nil:
			out = append(out, convertChain(it.Chain))
		}
	}
	return out
}

func convertHeader(h *gHeader) *Header {
	out := &Header{node: at(h), Keyword: h.Keyword, Eq: h.Eq}
	if h.Name != nil {
		out.Name = convertName(h.Name)
	}
	for _, v := range h.Values {
		out.Values = append(out.Values, &Str{node: at(v), Raw: v.Raw})
	}
	return out
}

func convertName(n *gName) *Name { return &Name{node: at(n), Value: n.Value} }

func convertChain(c *gChain) *Chain {
	out := &Chain{node: at(c), Steps: make([]Step, 0, len(c.Steps))}
	for _, st := range c.Steps {
		switch {
		case st.When != nil:
			w := st.When
			cw := &When{node: at(w), Cond: &CondExpr{node: at(w.Cond), Text: w.Cond.Text}, Then: convertBlock(w.Then)}
			if w.Else != nil {
				cw.Else = convertChain(w.Else)
			}
			out.Steps = append(out.Steps, cw)
		case st.Block != nil:
			out.Steps = append(out.Steps, convertBlock(st.Block))
		case st.Set != nil:
			s := st.Set
			out.Steps = append(out.Steps, &Set{node: at(s), Name: convertName(s.Name), Expr: &RawExpr{node: at(s.Expr), Text: s.Expr.Text}})
		case st.Bad != nil:
			b := &BadStep{node: at(st.Bad), Text: st.Bad.Text}
			if st.Bad.Block != nil {
				b.Block = convertBlock(st.Bad.Block)
			}
			out.Steps = append(out.Steps, b)
		case st.Cmd != nil:
			out.Steps = append(out.Steps, convertCommand(st.Cmd))
		}
	}
	return out
}

func convertCommand(c *gCommand) *Command {
	out := &Command{node: at(c), Name: convertName(c.Name)}
	if len(c.Args) > 0 {
		out.Args = make([]*Value, len(c.Args))
		for i, v := range c.Args {
			out.Args[i] = &Value{node: at(v), Kind: v.Kind, Tok: v.Tok, Call: v.Call, typ: v.typ()}
		}
	}
	if c.Block != nil {
		out.Block = convertBlock(c.Block)
	}
	return out
}

func convertBlock(b *gBlock) *Block {
	out := &Block{node: at(b), Stmts: make([]Stmt, 0, len(b.Items))}
	for _, it := range b.Items {
		if it.Branch != nil {
			out.Stmts = append(out.Stmts, convertBranch(it.Branch))
		} else {
			out.Stmts = append(out.Stmts, convertChain(it.Chain))
		}
	}
	return out
}

func convertBranch(b *gBranch) *Branch {
	l := b.Label
	cl := &Label{node: at(l), Else: l.Else, Timeout: l.Timeout, On: l.On, Key: l.Key}
	switch {
	case l.Else:
		cl.Kind = ElseLabel
	case l.Timeout != "":
		cl.Kind = TimeoutLabel
	case l.On != "":
		cl.Kind = OnLabel
	}
	// The label's argument is its last token (the duration, the event,
	// the key itself).
	last := l.Tokens[len(l.Tokens)-1]
	cl.ArgStart, cl.ArgEnd = last.Pos.Offset, tokenEnd(last)
	return &Branch{node: at(b), Label: cl, Body: convertChain(b.Body)}
}

// attachComments gives each statement the comments that belong to it: a
// comment on its own line to the statement that starts next (Before), or,
// when the block it is in ends first, to that block (After); an inline
// comment to the innermost statement that starts on its line (Suffix).
func attachComments(src *file.Source, stmts []Stmt, comments []Comment) {
	if len(comments) == 0 {
		return
	}
	type event struct {
		off int
		n   Node
	}
	var order []Stmt   // statements, in source order
	var events []event // statement starts and block ends, in source order
	var walk func([]Stmt)
	var walkChain func(*Chain)
	walkBlock := func(b *Block) {
		if b != nil {
			walk(b.Stmts)
			_, end := b.Pos()
			events = append(events, event{end - 1, b})
		}
	}
	walkChain = func(c *Chain) {
		for _, st := range c.Steps {
			switch st := st.(type) {
			case *When:
				walkBlock(st.Then)
				if st.Else != nil {
					walkChain(st.Else)
				}
			case *Block:
				walkBlock(st)
			case *Command:
				walkBlock(st.Block)
			case *BadStep:
				walkBlock(st.Block)
			}
		}
	}
	walk = func(ss []Stmt) {
		for _, s := range ss {
			order = append(order, s)
			events = append(events, event{Start(s), s})
			switch s := s.(type) {
			case *Section:
				walkBlock(s.Body)
			case *Chain:
				walkChain(s)
			case *Branch:
				walkChain(s.Body)
			}
		}
	}
	walk(stmts)
	attached := func(n Node) *Comments {
		b := n.(based).base()
		if b.comments == nil {
			b.comments = &Comments{}
		}
		return b.comments
	}
	k, e := 0, 0 // order[:k], events[:e] are before the comment
	for _, c := range comments {
		for k < len(order) && Start(order[k]) < c.Offset {
			k++
		}
		for e < len(events) && events[e].off < c.Offset {
			e++
		}
		switch {
		case c.Inline:
			if k > 0 && src.Pos(Start(order[k-1])).Line == src.Pos(c.Offset).Line {
				cs := attached(order[k-1])
				cs.Suffix = append(cs.Suffix, c)
			}
		case e < len(events):
			cs := attached(events[e].n)
			if _, end := events[e].n.(*Block); end {
				cs.After = append(cs.After, c)
			} else {
				cs.Before = append(cs.Before, c)
			}
		}
	}
}

// based is every node: its common part.
type based interface{ base() *node }

func (n *node) base() *node { return n }
