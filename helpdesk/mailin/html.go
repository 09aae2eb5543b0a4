package mailin

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

var (
	remoteURL   = regexp.MustCompile(`(?i)^https?://[^\s"'<>\\]+$`)
	localImage  = regexp.MustCompile(`(?i)^(cid:[^\s"'<>\\]+|data:image/(png|jpeg|jpg|gif|webp);base64,[a-z0-9+/=\s]+)$`)
	linkURL     = regexp.MustCompile(`(?i)^(https?://|mailto:|tel:)`)
	colorValue  = regexp.MustCompile(`(?i)^(#[0-9a-f]{3,8}|[a-z]{3,20})$`)
	sizeValue   = regexp.MustCompile(`^[0-9]{1,4}%?$`)
	fontFace    = regexp.MustCompile(`^[\p{L}\p{N} ,'_-]{1,100}$`)
	alignValue  = regexp.MustCompile(`(?i)^(left|right|center|justify|top|middle|bottom|baseline)$`)
	spanValue   = regexp.MustCompile(`^[0-9]{1,3}$`)
	fontSizeVal = regexp.MustCompile(`^[+-]?[1-7]$`)
)

// htmlPolicy is the sanitiser for mail HTML: text formatting, lists, tables, links (http, https,
// mailto, tel; rel="nofollow noreferrer noopener", target=_blank) and images from cid: or data:
// only. No script, style elements, event handlers, forms, iframes, objects, SVG, javascript: or
// data: links, nor CSS beyond a list of formatting properties whose values bluemonday checks (so
// no url() or expression()). Built per message: the package keeps no state.
func htmlPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	// No id or name attributes: mail could clobber the ticket page's own DOM ids.
	p.AllowAttrs("dir").Matching(bluemonday.Direction).Globally()
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[a-zA-Z]{2,8}(-[a-zA-Z0-9]{1,8})*$`)).Globally()
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).Globally()
	p.AllowURLSchemes("http", "https", "mailto", "tel", "cid")
	p.AllowDataURIImages()
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowElements("p", "br", "div", "span", "hr", "b", "strong", "i", "em", "u", "s", "strike",
		"small", "big", "sub", "sup", "tt", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
		"center", "abbr", "cite", "q", "blockquote", "address", "del", "ins", "mark", "wbr")
	p.AllowLists()
	p.AllowTables()
	p.AllowAttrs("href").Matching(linkURL).OnElements("a")
	p.AllowAttrs("src").Matching(localImage).OnElements("img")
	p.AllowAttrs("data-remote-src").Matching(remoteURL).OnElements("img")
	p.AllowAttrs("alt").Matching(bluemonday.Paragraph).OnElements("img")
	p.AllowAttrs("width", "height").Matching(bluemonday.NumberOrPercent).OnElements("img", "table", "td", "th", "col")
	p.AllowAttrs("align", "valign").Matching(alignValue).OnElements("p", "div", "img", "table", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("bgcolor").Matching(colorValue).OnElements("table", "tr", "td", "th")
	p.AllowAttrs("border", "cellpadding", "cellspacing").Matching(sizeValue).OnElements("table", "img")
	p.AllowAttrs("colspan", "rowspan").Matching(spanValue).OnElements("td", "th")
	p.AllowAttrs("color").Matching(colorValue).OnElements("font")
	p.AllowAttrs("face").Matching(fontFace).OnElements("font")
	p.AllowAttrs("size").Matching(fontSizeVal).OnElements("font")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`(?i)^cite$`)).OnElements("blockquote")
	p.AllowStyles("color", "background-color", "font-size", "font-family", "font-weight",
		"font-style", "text-align", "text-decoration", "line-height", "vertical-align",
		"white-space", "margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
		"padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
		"border-collapse", "list-style-type", "direction", "width", "height").Globally()
	return p
}

// sanitizeHTML blocks remote images and then sanitises. A remote image keeps its address in
// data-remote-src (http and https only) and loses src, so the browser loads nothing until the
// ticket page, on the user's click, copies it back; the page styles img[data-remote-src] as the
// placeholder. cid: images stay as src="cid:<Content-ID>", for the page to point at the
// attachment with that ContentID.
func sanitizeHTML(s string) string {
	return strings.TrimSpace(htmlPolicy().Sanitize(blockRemoteImages(s)))
}

// blockRemoteImages moves the src of <img> elements that load from the network into
// data-remote-src, and drops srcset. Everything else passes through byte for byte.
func blockRemoteImages(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var out bytes.Buffer
	out.Grow(len(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.String()
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(z.Raw())
			continue
		}
		tok := z.Token()
		if tok.DataAtom != atom.Img {
			out.WriteString(tok.String())
			continue
		}
		attrs := tok.Attr[:0]
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			switch key {
			case "srcset", "data-remote-src", "lowsrc", "dynsrc":
				continue
			case "src":
				v := strings.TrimSpace(a.Val)
				lv := strings.ToLower(v)
				if strings.HasPrefix(lv, "//") {
					v, lv = "https:"+v, "https:"+lv
				}
				if strings.HasPrefix(lv, "http://") || strings.HasPrefix(lv, "https://") {
					attrs = append(attrs, html.Attribute{Key: "data-remote-src", Val: v})
					continue
				}
			}
			attrs = append(attrs, a)
		}
		tok.Attr = attrs
		out.WriteString(tok.String())
	}
}

// htmlToText renders mail HTML as plain text: blocks become lines, list items "- ", links
// "text <url>", and blockquotes (Gmail, Apple Mail, Thunderbird quotes) are prefixed with "> " so
// that StripQuotes recognises them. Script, style, title and embedded objects are skipped. It
// streams tokens rather than building a tree, so hostile nesting costs linear time (the tree
// msgBuilder of x/net/html refuses more than 512 open elements and is quadratic on some inputs).
func htmlToText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	w := &textWriter{}
	for !w.full {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		switch tt {
		case html.TextToken:
			if w.skip == 0 {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if skipText(a) {
				if tt == html.StartTagToken {
					w.skip++
				}
				continue
			}
			href := ""
			for hasAttr && a == atom.A {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if string(k) == "href" {
					href = string(v)
				}
			}
			w.open(a, href, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			if skipText(a) {
				if w.skip > 0 {
					w.skip--
				}
				continue
			}
			w.close(a)
		}
	}
	w.newline()
	return w.out.String()
}

type textLink struct {
	href  string
	start int // length of the line when the link opened
	lines int // lines written when the link opened
}

type textWriter struct {
	out   strings.Builder
	line  strings.Builder
	lines int
	quote int
	pre   int
	skip  int
	space bool
	full  bool
	links []textLink
}

func (w *textWriter) text(s string) {
	if w.pre > 0 {
		parts := strings.Split(s, "\n")
		for i, p := range parts {
			if i > 0 {
				w.flush()
			}
			w.line.WriteString(p)
		}
		return
	}
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00a0' {
			w.space = true
			continue
		}
		if w.space && w.line.Len() > 0 && !strings.HasSuffix(w.line.String(), " ") {
			w.line.WriteByte(' ')
		}
		w.space = false
		w.line.WriteRune(r)
	}
}

// flush ends the current line.
func (w *textWriter) flush() {
	if w.out.Len() > maxBodyText {
		w.full = true
		return
	}
	w.out.WriteString(strings.Repeat("> ", min(w.quote, 16)))
	w.out.WriteString(strings.TrimRight(w.line.String(), " "))
	w.out.WriteByte('\n')
	w.line.Reset()
	w.lines++
	w.space = false
}

// newline ends the current line if it has text.
func (w *textWriter) newline() {
	if w.line.Len() > 0 {
		w.flush()
	}
}

// blank ends the line and leaves one empty line.
func (w *textWriter) blank() {
	w.newline()
	w.flush()
}

// skipText lists the elements whose content is not text for a reader.
func skipText(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Noscript, atom.Template, atom.Iframe, atom.Object,
		atom.Svg, atom.Math, atom.Select, atom.Textarea, atom.Noembed, atom.Noframes, atom.Xmp:
		return true
	}
	return false
}

func (w *textWriter) open(a atom.Atom, href string, selfClosing bool) {
	switch a {
	case atom.Br:
		w.flush()
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.blank()
	case atom.Div, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Section,
		atom.Article, atom.Header, atom.Footer, atom.Address, atom.Center, atom.Hr, atom.Body:
		w.newline()
	case atom.Li:
		w.newline()
		w.line.WriteString("- ")
	case atom.Td, atom.Th:
		w.text(" ")
	case atom.Pre:
		w.newline()
		if !selfClosing {
			w.pre++
		}
	case atom.Blockquote:
		w.newline()
		if !selfClosing {
			w.quote++
		}
	case atom.A:
		if strings.HasPrefix(strings.ToLower(href), "http") && !selfClosing && len(w.links) < 64 {
			w.links = append(w.links, textLink{href: href, start: w.line.Len(), lines: w.lines})
		}
	}
}

func (w *textWriter) close(a atom.Atom) {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.blank()
	case atom.Div, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Section,
		atom.Article, atom.Header, atom.Footer, atom.Address, atom.Center, atom.Li:
		w.newline()
	case atom.Td, atom.Th:
		w.text(" ")
	case atom.Pre:
		w.newline()
		w.pre = max(0, w.pre-1)
	case atom.Blockquote:
		w.newline()
		w.quote = max(0, w.quote-1)
	case atom.A:
		if len(w.links) == 0 {
			return
		}
		l := w.links[len(w.links)-1]
		w.links = w.links[:len(w.links)-1]
		inside := ""
		if l.lines == w.lines && l.start <= w.line.Len() {
			inside = w.line.String()[l.start:]
		}
		if !strings.Contains(inside, l.href) {
			w.text(" <" + l.href + ">")
		}
	}
}
