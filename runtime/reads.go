package runtime

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// ContactReads says which parts of the contact an expression may read,
// so that a server can leave the rest unread (vm.Program.Reads): what a
// step reads beyond the directory entry and the tags costs a statement
// each (the history; the edits flows made).
type ContactReads uint8

const (
	// ReadsHistory: contact.last_texted_by, last_called_by,
	// last_interaction, interactions or campaign (WithHistory's fields).
	ReadsHistory ContactReads = 1 << iota
	// ReadsEdits: contact.tags or contact.fields, which the tags flows
	// removed and the fields they set change (vm/inbound.EditContact).
	ReadsEdits

	readsWhole = ReadsHistory | ReadsEdits
)

// historyFields and editedFields are the contact's fields by what they
// need read; known, name and owner need neither (the directory's).
var (
	historyFields   = map[string]bool{"last_texted_by": true, "last_called_by": true, "last_interaction": true, "interactions": true, "campaign": true}
	editedFields    = map[string]bool{"tags": true, "fields": true}
	directoryFields = map[string]bool{"known": true, "name": true, "owner": true}
)

// ContactReads is what of the contact evaluating c may read: every part
// when c is nil or its source could not be analysed.
func (c *Compiled) ContactReads() ContactReads {
	if c == nil {
		return readsWhole
	}
	return c.contactReads
}

// contactReads analyses src's tree: a read of contact.FIELD reads what
// FIELD needs; any other use of `contact` (the whole value, an index
// that is not a constant name) or of $env reads every part.
func contactReads(tree *parser.Tree) ContactReads {
	if tree == nil {
		return readsWhole
	}
	v := &readsVisitor{bases: map[*ast.IdentifierNode]bool{}}
	ast.Walk(&tree.Node, v) // children first: v.bases is complete only at the end
	for _, id := range v.idents {
		if !v.bases[id] {
			v.reads = readsWhole
		}
	}
	return v.reads
}

type readsVisitor struct {
	bases  map[*ast.IdentifierNode]bool // `contact` identifiers read through a known field
	idents []*ast.IdentifierNode        // every `contact` (and $env) identifier
	reads  ContactReads
}

func (v *readsVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if n.Value == "contact" || n.Value == "$env" {
			v.idents = append(v.idents, n)
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "contact" {
			return
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok || n.Method {
			return // contact[x]: the identifier stays a whole read
		}
		switch {
		case historyFields[prop.Value]:
			v.reads |= ReadsHistory
		case editedFields[prop.Value]:
			v.reads |= ReadsEdits
		case directoryFields[prop.Value]:
		default:
			return // not a field expressions know: read as whole
		}
		v.bases[id] = true
	}
}
