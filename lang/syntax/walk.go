package syntax

// Walk traverses the AST rooted at n in source order (depth first): it
// calls fn(n), and unless that returns false, walks n's children.
// Names, strings, labels and values are leaves that Walk visits too.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	switch n := n.(type) {
	case *Header:
		if n.Name != nil {
			Walk(n.Name, fn)
		}
		for _, v := range n.Values {
			Walk(v, fn)
		}
	case *Section:
		Walk(n.Name, fn)
		Walk(n.Body, fn)
	case *Chain:
		for _, s := range n.Steps {
			Walk(s, fn)
		}
	case *Branch:
		Walk(n.Label, fn)
		Walk(n.Body, fn)
	case *When:
		Walk(n.Cond, fn)
		Walk(n.Then, fn)
		if n.Else != nil {
			Walk(n.Else, fn)
		}
	case *Block:
		for _, s := range n.Stmts {
			Walk(s, fn)
		}
	case *Set:
		Walk(n.Name, fn)
		Walk(n.Expr, fn)
	case *Command:
		Walk(n.Name, fn)
		for _, v := range n.Args {
			Walk(v, fn)
		}
		if n.Block != nil {
			Walk(n.Block, fn)
		}
	case *BadStep:
		if n.Block != nil {
			Walk(n.Block, fn)
		}
	}
}

// WalkFile walks each of f's statements (see Walk).
func WalkFile(f *File, fn func(Node) bool) {
	for _, s := range f.Stmts {
		Walk(s, fn)
	}
}
