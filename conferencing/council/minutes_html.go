package council

import (
	"bytes"
	"fmt"
	"html/template"
	"io"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// The HTML minutes are the same Document as the ODT, written with html/template (every text
// escaped) and no inline style or script, so that the body can also sit inside the web app's
// layout under its strict Content-Security-Policy. Tables have a caption and header cells with
// scope, for screen readers.

const minutesBody = `<article class="minutes" lang="{{.Lang}}">
{{- range .Blocks}}
{{if .IsHeading}}{{if eq .Level 1}}<h1>{{.Text}}</h1>{{else if eq .Level 2}}<h2>{{.Text}}</h2>{{else}}<h3>{{.Text}}</h3>{{end}}
{{- else if .IsParagraph}}<p>{{if .Strong}}<strong>{{end}}{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}{{if .Strong}}</strong>{{end}}</p>
{{- else if .IsTable}}{{with .Table}}<table class="minutes-table">
<caption>{{.Caption}}</caption>
<thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- $rh := .RowHeaders}}{{range .Rows}}
<tr>{{range $i, $c := .}}{{if and $rh (eq $i 0)}}<th scope="row">{{else}}<td>{{end}}{{range $j, $l := $c}}{{if $j}}<br>{{end}}{{$l}}{{end}}{{if and $rh (eq $i 0)}}</th>{{else}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table>{{end}}{{end}}
{{- end}}
</article>
`

const minutesPage = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body>
<main>
{{.Body}}
</main>
</body>
</html>
`

// WriteHTML writes the minutes in lang as a complete HTML page.
func (m *Minutes) WriteHTML(w io.Writer, c *i18n.Catalog, lang string) error {
	d := m.Document(c, lang)
	body, err := d.HTMLBody()
	if err != nil {
		return err
	}
	t, err := template.New("page").Parse(minutesPage)
	if err != nil {
		return fmt.Errorf("minutes page template: %w", err)
	}
	if err := t.Execute(w, struct {
		Lang, Title string
		Body        template.HTML
	}{d.Lang, d.Title, body}); err != nil {
		return fmt.Errorf("write minutes page: %w", err)
	}
	return nil
}

// WriteHTMLBody writes the document as an <article> for a page's content.
func (d *Document) WriteHTMLBody(w io.Writer) error {
	t, err := template.New("minutes").Parse(minutesBody)
	if err != nil {
		return fmt.Errorf("minutes template: %w", err)
	}
	if err := t.Execute(w, d); err != nil {
		return fmt.Errorf("write minutes: %w", err)
	}
	return nil
}

// HTMLBody is WriteHTMLBody as a value a page template can insert with {{.}}: the article is
// safe HTML because html/template escaped every text in it.
func (d *Document) HTMLBody() (template.HTML, error) {
	var b bytes.Buffer
	if err := d.WriteHTMLBody(&b); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // escaped by html/template above
}
