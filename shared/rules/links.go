package rules

import (
	"regexp"
	"strings"
	"text/template/parse"
)

// Link is the address a template links to for rawURL: the message's
// tracked link (GET /r/{token}) when the message is rendered for sending
// with link tracking (WithLinks), otherwise rawURL itself. Templates need
// not call it: every link a template renders from a merge field goes
// through it (trackHTMLLinks, trackTextLinks). A literal address written
// into a template can be tracked with {{$.Link "https://..."}}.
func (d MessageData) Link(rawURL string) string {
	if d.links == nil {
		return rawURL
	}
	return d.links(rawURL)
}

// WithLinks returns d rendering its links through link (one message's
// link tracker, which leaves alone what it does not track: mailto:, tel:,
// the unsubscribe link).
func (d MessageData) WithLinks(link func(rawURL string) string) MessageData {
	d.links = link
	return d
}

// linkCall is the command templates' link actions end with: "| $.Link".
func linkCall() *parse.CommandNode {
	return &parse.CommandNode{NodeType: parse.NodeCommand, Args: []parse.Node{&parse.VariableNode{NodeType: parse.NodeVariable, Ident: []string{"$", "Link"}}}}
}

// hrefOpen matches the text before a link's value: an href attribute
// opened, quoted or not.
var hrefOpen = regexp.MustCompile(`(?i)\shref\s*=\s*(["']?)$`)

// trackHTMLLinks rewrites a parsed HTML template, before it is escaped,
// so that every action that is the whole value of a link's href attribute
// (<a href="{{.URL}}">, <area>) is piped through MessageData.Link. Actions that are
// only part of a value (href="{{.Shop.URL}}/sale") are left as they are:
// their link is not tracked.
func trackHTMLLinks(list *parse.ListNode) {
	if list == nil {
		return
	}
	for i, n := range list.Nodes {
		trackBranches(n, trackHTMLLinks)
		a, ok := n.(*parse.ActionNode)
		if !ok || i == 0 || i == len(list.Nodes)-1 {
			continue
		}
		before, _ := list.Nodes[i-1].(*parse.TextNode)
		after, _ := list.Nodes[i+1].(*parse.TextNode)
		if before == nil || after == nil || len(after.Text) == 0 {
			continue
		}
		m := hrefOpen.FindSubmatch(before.Text)
		switch {
		case m == nil || !inAnchor(list.Nodes[:i]):
			continue
		case len(m[1]) > 0 && after.Text[0] != m[1][0]: // the quote does not close here
			continue
		case len(m[1]) == 0 && after.Text[0] != '>' && after.Text[0] != ' ':
			continue
		}
		pipeLink(a)
	}
}

// anchorStart matches the start of a link element's tag: <a or <area.
var anchorStart = regexp.MustCompile(`(?i)^<(a|area)[\s>]`)

// inAnchor reports whether the tag open at the end of nodes (the text and
// actions before an href value) is a link a person clicks (<a>, <area>),
// not a <link> or <base> whose address a mail client fetches by itself.
func inAnchor(nodes []parse.Node) bool {
	for j := len(nodes) - 1; j >= 0; j-- {
		text, ok := nodes[j].(*parse.TextNode)
		if !ok {
			continue
		}
		if k := strings.LastIndexByte(string(text.Text), '<'); k >= 0 {
			return anchorStart.Match(text.Text[k:])
		}
	}
	return false
}

// trackTextLinks rewrites a parsed text template (an email's text part, a
// LINE message) so that every action printing a field named URL
// ({{.URL}}, {{.Shop.URL}}) is piped through MessageData.Link. In text the
// address shown is the link.
func trackTextLinks(list *parse.ListNode) {
	if list == nil {
		return
	}
	for _, n := range list.Nodes {
		trackBranches(n, trackTextLinks)
		a, ok := n.(*parse.ActionNode)
		if !ok || len(a.Pipe.Decl) > 0 || len(a.Pipe.Cmds) != 1 || len(a.Pipe.Cmds[0].Args) != 1 {
			continue
		}
		var idents []string
		switch f := a.Pipe.Cmds[0].Args[0].(type) {
		case *parse.FieldNode:
			idents = f.Ident
		case *parse.VariableNode:
			idents = f.Ident
		case *parse.ChainNode:
			idents = f.Field
		}
		if len(idents) > 0 && idents[len(idents)-1] == "URL" {
			pipeLink(a)
		}
	}
}

// trackBranches applies track to the lists inside an if, range or with.
func trackBranches(n parse.Node, track func(*parse.ListNode)) {
	var b *parse.BranchNode
	switch n := n.(type) {
	case *parse.IfNode:
		b = &n.BranchNode
	case *parse.RangeNode:
		b = &n.BranchNode
	case *parse.WithNode:
		b = &n.BranchNode
	default:
		return
	}
	track(b.List)
	track(b.ElseList)
}

// pipeLink ends an action's pipeline with $.Link, unless it prints
// nothing (a declaration) or already ends with it.
func pipeLink(a *parse.ActionNode) {
	if len(a.Pipe.Decl) > 0 {
		return
	}
	last := a.Pipe.Cmds[len(a.Pipe.Cmds)-1]
	if v, ok := last.Args[0].(*parse.VariableNode); ok && len(v.Ident) == 2 && v.Ident[0] == "$" && v.Ident[1] == "Link" {
		return
	}
	a.Pipe.Cmds = append(a.Pipe.Cmds, linkCall())
}
