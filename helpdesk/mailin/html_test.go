package mailin

import (
	"strings"
	"testing"
)

func TestSanitizeHTML(t *testing.T) {
	tests := []struct {
		in       string
		has, not []string
	}{
		{`<p onclick="x()">a</p>`, []string{"<p>a</p>"}, []string{"onclick"}},
		{`<script>alert(1)</script>b`, []string{"b"}, []string{"script", "alert"}},
		{`<a href="javascript:alert(1)">x</a>`, []string{"x"}, []string{"javascript", "href"}},
		{`<a href="data:text/html,<script>alert(1)</script>">x</a>`, nil, []string{"data:", "script"}},
		{`<a href="https://e.it/p?a=1&b=2">x</a>`, []string{`href="https://e.it/p?a=1&amp;b=2"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`}, nil},
		{`<a href="mailto:a@b.it">m</a>`, []string{`href="mailto:a@b.it"`}, nil},
		{`<a href="/relative">r</a>`, []string{"r"}, []string{"href"}},
		{`<img src="http://t.example/p.gif" srcset="http://t.example/2x.gif 2x">`, []string{`data-remote-src="http://t.example/p.gif"`}, []string{` src=`, "srcset"}},
		{`<img SRC="HTTPS://T.example/P.gif">`, []string{`data-remote-src="HTTPS://T.example/P.gif"`}, []string{` src=`}},
		{`<img src="//t.example/p.gif">`, []string{`data-remote-src="https://t.example/p.gif"`}, []string{` src=`}},
		{`<img data-remote-src="javascript:alert(1)">`, nil, []string{"javascript", "data-remote-src"}},
		{`<img src="cid:logo@x.it" alt="logo">`, []string{`src="cid:logo@x.it"`, `alt="logo"`}, nil},
		{`<img src="data:image/png;base64,iVBORw0KGgo=">`, []string{`src="data:image/png;base64,iVBORw0KGgo="`}, nil},
		{`<img src="data:image/svg+xml;base64,PHN2Zz4=">`, nil, []string{"data:"}},
		{`<iframe src="https://e.it"></iframe>x`, []string{"x"}, []string{"iframe"}},
		{`<svg onload="alert(1)"><circle/></svg>`, nil, []string{"svg", "onload"}},
		{`<form action="https://e.it"><input name="p"><button>ok</button></form>`, []string{"ok"}, []string{"form", "input", "button"}},
		{`<div style="color: red; background: url(http://e.it/x.png); width: expression(alert(1))">s</div>`, []string{"color: red"}, []string{"url(", "expression"}},
		{`<style>p{}</style><p>x</p>`, []string{"<p>x</p>"}, []string{"style", "p{}"}},
		{`<div id="login" name="x" class="c">d</div>`, []string{"<div>d</div>"}, []string{"id=", "name=", "class="}},
		{`<table background="http://e.it/b.png" bgcolor="#ffffff"><tr><td colspan="2">t</td></tr></table>`, []string{`bgcolor="#ffffff"`, `colspan="2"`}, []string{"background="}},
		{`<font face="Calibri" color="red" size="2">f</font>`, []string{`<font face="Calibri" color="red" size="2">f</font>`}, nil},
		{`<blockquote type="cite">q</blockquote>`, []string{`<blockquote type="cite">q</blockquote>`}, nil},
		{`<meta http-equiv="refresh" content="0;url=https://e.it"><base href="https://e.it/"><link rel="stylesheet" href="https://e.it/c.css">`, nil, []string{"meta", "base", "link", "refresh"}},
	}
	for _, tt := range tests {
		got := sanitizeHTML(tt.in)
		for _, h := range tt.has {
			if !strings.Contains(got, h) {
				t.Errorf("sanitizeHTML(%q) = %q, missing %q", tt.in, got, h)
			}
		}
		for _, n := range tt.not {
			if strings.Contains(strings.ToLower(got), strings.ToLower(n)) {
				t.Errorf("sanitizeHTML(%q) = %q, must not contain %q", tt.in, got, n)
			}
		}
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head><body>
<p>Buongiorno,&nbsp;prova   di
spazi.</p><ul><li>uno</li><li>due</li></ul>
<p>Vedi <a href="https://e.it/x">il portale</a> e <a href="https://e.it/y">https://e.it/y</a>.</p>
<pre>riga 1
  riga 2</pre>
<table><tr><td>a</td><td>b</td></tr></table>
<div>Il giorno mar 12 mar 2024, Mario ha scritto:</div><blockquote>citato<br>ancora</blockquote>
</body></html>`
	want := "Buongiorno, prova di spazi.\n\n- uno\n- due\n\nVedi il portale <https://e.it/x> e https://e.it/y.\n\nriga 1\n  riga 2\na b\nIl giorno mar 12 mar 2024, Mario ha scritto:\n> citato\n> ancora"
	if got := cleanText(htmlToText(in)); got != want {
		t.Errorf("htmlToText:\n got %q\nwant %q", got, want)
	}
	if got := StripQuotes(cleanText(htmlToText(in))); strings.Contains(got, "citato") || strings.Contains(got, "ha scritto") {
		t.Errorf("quoted HTML not stripped: %q", got)
	}
}

// Deeply nested HTML must not exhaust the stack.
func TestHTMLToTextDeep(t *testing.T) {
	in := strings.Repeat("<div><blockquote>", 20000) + "fondo" + strings.Repeat("</blockquote></div>", 20000)
	if got := htmlToText(in); !strings.Contains(got, "fondo") {
		t.Errorf("deep text lost")
	}
	_ = sanitizeHTML(in)
}

// No allowed style property lets a value load anything or run script.
func TestStylesRejectURLs(t *testing.T) {
	props := []string{"color", "background-color", "font-size", "font-family", "font-weight",
		"font-style", "text-align", "text-decoration", "line-height", "vertical-align",
		"white-space", "margin", "margin-top", "padding", "padding-left", "border-collapse",
		"list-style-type", "direction", "width", "height"}
	values := []string{"url(http://e.it/x.png)", "expression(alert(1))", "var(--x)",
		`\75 rl(http://e.it)`, "attr(x)", `image-set("http://e.it" 1x)`}
	for _, p := range props {
		for _, v := range values {
			if out := sanitizeHTML(`<div style="` + p + `: ` + v + `">x</div>`); strings.Contains(out, "style") {
				t.Errorf("%s: %s kept: %s", p, v, out)
			}
		}
	}
}
