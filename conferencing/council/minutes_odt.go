package council

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"time"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// An OpenDocument Text file is a zip whose first member is "mimetype", stored uncompressed and
// without extra fields, so that tools can recognise it from its first bytes; then the manifest
// and the XML parts. The XML is written by hand (only the few elements the verbale needs) and
// every text goes through encoding/xml's escaping.

const odtMime = "application/vnd.oasis.opendocument.text"

// The namespaces the parts use.
const (
	nsOffice   = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
	nsStyle    = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
	nsText     = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
	nsTable    = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
	nsFo       = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
	nsSvg      = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
	nsMeta     = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
	nsDC       = "http://purl.org/dc/elements/1.1/"
	nsManifest = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
)

// WriteODT writes the minutes in lang as an OpenDocument Text file, editable in LibreOffice.
func (m *Minutes) WriteODT(w io.Writer, c *i18n.Catalog, lang string) error {
	return m.Document(c, lang).WriteODT(w)
}

// WriteODT writes the document as an OpenDocument Text file. The output depends only on the
// document (the zip times are the session's), so the same record always gives the same file.
func (d *Document) WriteODT(w io.Writer) error {
	mod := d.Created.UTC()
	if mod.Year() < 1980 { // the zip format starts in 1980
		mod = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	zw := zip.NewWriter(w)
	if err := storeMimetype(zw); err != nil {
		return fmt.Errorf("write odt: %w", err)
	}
	parts := []struct {
		name string
		body []byte
	}{
		{"META-INF/manifest.xml", odtManifest()},
		{"content.xml", d.odtContent()},
		{"styles.xml", d.odtStyles()},
		{"meta.xml", d.odtMeta()},
	}
	for _, p := range parts {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return fmt.Errorf("write odt %s: %w", p.name, err)
		}
		if _, err := f.Write(p.body); err != nil {
			return fmt.Errorf("write odt %s: %w", p.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write odt: %w", err)
	}
	return nil
}

// storeMimetype writes the first member raw: stored, sizes and CRC in the local header, no data
// descriptor, no extra field (CreateHeader would add both).
func storeMimetype(zw *zip.Writer) error {
	body := []byte(odtMime)
	f, err := zw.CreateRaw(&zip.FileHeader{Name: "mimetype", Method: zip.Store, CRC32: crc32.ChecksumIEEE(body),
		CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(body))})
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	return err
}

// xmlw builds an XML part.
type xmlw struct{ bytes.Buffer }

func (x *xmlw) text(s string) { _ = xml.EscapeText(x, []byte(s)) }

// tag writes a start tag (an empty-element tag with empty); attrs are name, value pairs.
func (x *xmlw) tag(name string, empty bool, attrs ...string) {
	x.WriteByte('<')
	x.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.WriteByte(' ')
		x.WriteString(attrs[i])
		x.WriteString(`="`)
		x.text(attrs[i+1])
		x.WriteByte('"')
	}
	if empty {
		x.WriteString("/>")
		return
	}
	x.WriteByte('>')
}

func (x *xmlw) open(name string, attrs ...string)  { x.tag(name, false, attrs...) }
func (x *xmlw) empty(name string, attrs ...string) { x.tag(name, true, attrs...) }
func (x *xmlw) close(name string)                  { x.WriteString("</" + name + ">") }

// lines writes lines as the content of one paragraph, separated by line breaks.
func (x *xmlw) lines(ls []string) {
	for i, l := range ls {
		if i > 0 {
			x.empty("text:line-break")
		}
		x.text(l)
	}
}

func odtManifest() []byte {
	var x xmlw
	x.WriteString(xml.Header)
	x.open("manifest:manifest", "xmlns:manifest", nsManifest, "manifest:version", "1.3")
	x.empty("manifest:file-entry", "manifest:full-path", "/", "manifest:version", "1.3", "manifest:media-type", odtMime)
	for _, p := range []string{"content.xml", "styles.xml", "meta.xml"} {
		x.empty("manifest:file-entry", "manifest:full-path", p, "manifest:media-type", "text/xml")
	}
	x.close("manifest:manifest")
	return x.Bytes()
}

func (d *Document) odtContent() []byte {
	var x xmlw
	x.WriteString(xml.Header)
	x.open("office:document-content", "xmlns:office", nsOffice, "xmlns:style", nsStyle, "xmlns:text", nsText,
		"xmlns:table", nsTable, "xmlns:fo", nsFo, "office:version", "1.3")
	x.open("office:automatic-styles")
	x.open("style:style", "style:name", "Tbl", "style:family", "table")
	x.empty("style:table-properties", "style:width", "17cm", "table:align", "margins", "fo:margin-bottom", "0.3cm")
	x.close("style:style")
	x.open("style:style", "style:name", "Cell", "style:family", "table-cell")
	x.empty("style:table-cell-properties", "fo:padding", "0.08cm", "fo:border", "0.5pt solid #000000")
	x.close("style:style")
	x.open("style:style", "style:name", "Strong", "style:family", "paragraph", "style:parent-style-name", "Text_20_body")
	x.empty("style:text-properties", "fo:font-weight", "bold")
	x.close("style:style")
	for _, b := range d.Blocks {
		if t := b.Table; t != nil && len(t.Widths) == len(t.Header) {
			x.columnStyles(t)
		}
	}
	x.close("office:automatic-styles")
	x.open("office:body")
	x.open("office:text")
	for _, b := range d.Blocks {
		switch b.Kind {
		case BlockHeading:
			level := strconv.Itoa(min(max(b.Level, 1), 3))
			x.open("text:h", "text:style-name", "Heading_20_"+level, "text:outline-level", level)
			x.lines(b.Lines)
			x.close("text:h")
		case BlockParagraph:
			style := "Text_20_body"
			if b.Strong {
				style = "Strong"
			}
			x.open("text:p", "text:style-name", style)
			x.lines(b.Lines)
			x.close("text:p")
		case BlockTable:
			x.odtTable(b.Table)
		}
	}
	x.close("office:text")
	x.close("office:body")
	x.close("office:document-content")
	return x.Bytes()
}

func (x *xmlw) odtTable(t *Table) {
	if t == nil || len(t.Header) == 0 {
		return
	}
	x.open("text:p", "text:style-name", "Caption")
	x.text(t.Caption)
	x.close("text:p")
	x.open("table:table", "table:name", t.Name, "table:style-name", "Tbl")
	if len(t.Widths) == len(t.Header) {
		for i := range t.Header {
			x.empty("table:table-column", "table:style-name", t.Name+".C"+strconv.Itoa(i+1))
		}
	} else {
		x.empty("table:table-column", "table:number-columns-repeated", strconv.Itoa(len(t.Header)))
	}
	x.open("table:table-header-rows")
	x.open("table:table-row")
	for _, h := range t.Header {
		x.odtCell([]string{h}, "Table_20_Heading")
	}
	x.close("table:table-row")
	x.close("table:table-header-rows")
	for _, row := range t.Rows {
		x.open("table:table-row")
		for i := range t.Header { // exactly one cell per column, whatever the row holds
			var c Cell
			if i < len(row) {
				c = row[i]
			}
			x.odtCell(c, "Table_20_Contents")
		}
		x.close("table:table-row")
	}
	x.close("table:table")
}

// pageWidth is the width of the text on an A4 page with 2 cm margins, in mm.
const pageWidth = 170

// columnStyles writes the column widths of t: shares of the page width by t.Widths.
func (x *xmlw) columnStyles(t *Table) {
	sum := 0
	for _, w := range t.Widths {
		sum += max(w, 1)
	}
	for i, w := range t.Widths {
		w = max(w, 1)
		x.open("style:style", "style:name", t.Name+".C"+strconv.Itoa(i+1), "style:family", "table-column")
		x.empty("style:table-column-properties", "style:column-width", strconv.FormatFloat(float64(pageWidth*w)/float64(sum), 'f', 2, 64)+"mm",
			"style:rel-column-width", strconv.Itoa(w*1000)+"*")
		x.close("style:style")
	}
}

func (x *xmlw) odtCell(lines []string, style string) {
	x.open("table:table-cell", "table:style-name", "Cell", "office:value-type", "string")
	if len(lines) == 0 {
		lines = []string{""}
	}
	for _, l := range lines {
		x.open("text:p", "text:style-name", style)
		x.text(l)
		x.close("text:p")
	}
	x.close("table:table-cell")
}

// paragraphStyle writes a named paragraph style with text properties and paragraph properties.
func (x *xmlw) paragraphStyle(name, display, parent string, para, text []string) {
	attrs := []string{"style:name", name, "style:display-name", display, "style:family", "paragraph"}
	if parent != "" {
		attrs = append(attrs, "style:parent-style-name", parent)
	}
	x.open("style:style", attrs...)
	if len(para) > 0 {
		x.empty("style:paragraph-properties", para...)
	}
	if len(text) > 0 {
		x.empty("style:text-properties", text...)
	}
	x.close("style:style")
}

func (d *Document) odtStyles() []byte {
	language, country := "it", "IT"
	if d.Lang == "en" {
		language, country = "en", "GB"
	}
	var x xmlw
	x.WriteString(xml.Header)
	x.open("office:document-styles", "xmlns:office", nsOffice, "xmlns:style", nsStyle, "xmlns:text", nsText,
		"xmlns:table", nsTable, "xmlns:fo", nsFo, "xmlns:svg", nsSvg, "office:version", "1.3")
	x.open("office:font-face-decls")
	x.empty("style:font-face", "style:name", "Liberation Serif", "svg:font-family", "'Liberation Serif'",
		"style:font-family-generic", "roman", "style:font-pitch", "variable")
	x.empty("style:font-face", "style:name", "Liberation Sans", "svg:font-family", "'Liberation Sans'",
		"style:font-family-generic", "swiss", "style:font-pitch", "variable")
	x.close("office:font-face-decls")
	x.open("office:styles")
	x.open("style:default-style", "style:family", "paragraph")
	x.empty("style:text-properties", "style:font-name", "Liberation Serif", "fo:font-size", "11pt",
		"fo:language", language, "fo:country", country)
	x.close("style:default-style")
	x.paragraphStyle("Standard", "Standard", "", nil, nil)
	x.paragraphStyle("Text_20_body", "Text body", "Standard", []string{"fo:margin-top", "0cm", "fo:margin-bottom", "0.2cm"}, nil)
	x.paragraphStyle("Heading", "Heading", "Standard",
		[]string{"fo:margin-top", "0.42cm", "fo:margin-bottom", "0.21cm", "fo:keep-with-next", "always"},
		[]string{"style:font-name", "Liberation Sans", "fo:font-weight", "bold"})
	for i, size := range []string{"16pt", "14pt", "12pt"} {
		n := strconv.Itoa(i + 1)
		x.paragraphStyle("Heading_20_"+n, "Heading "+n, "Heading", nil, []string{"fo:font-size", size})
	}
	x.paragraphStyle("Table_20_Contents", "Table Contents", "Standard", nil, []string{"fo:font-size", "9pt"})
	x.paragraphStyle("Table_20_Heading", "Table Heading", "Table_20_Contents", nil, []string{"fo:font-weight", "bold"})
	x.paragraphStyle("Caption", "Caption", "Standard", []string{"fo:margin-top", "0.2cm", "fo:margin-bottom", "0.1cm",
		"fo:keep-with-next", "always"}, []string{"fo:font-style", "italic"})
	x.close("office:styles")
	x.open("office:automatic-styles")
	x.open("style:page-layout", "style:name", "A4")
	x.empty("style:page-layout-properties", "fo:page-width", "21cm", "fo:page-height", "29.7cm",
		"style:print-orientation", "portrait", "fo:margin-top", "2cm", "fo:margin-bottom", "2cm",
		"fo:margin-left", "2cm", "fo:margin-right", "2cm")
	x.close("style:page-layout")
	x.close("office:automatic-styles")
	x.open("office:master-styles")
	x.empty("style:master-page", "style:name", "Standard", "style:page-layout-name", "A4")
	x.close("office:master-styles")
	x.close("office:document-styles")
	return x.Bytes()
}

func (d *Document) odtMeta() []byte {
	var x xmlw
	x.WriteString(xml.Header)
	x.open("office:document-meta", "xmlns:office", nsOffice, "xmlns:meta", nsMeta, "xmlns:dc", nsDC, "office:version", "1.3")
	x.open("office:meta")
	x.open("meta:generator")
	x.text("Rocca")
	x.close("meta:generator")
	x.open("dc:title")
	x.text(d.Title)
	x.close("dc:title")
	x.open("dc:language")
	x.text(d.Lang)
	x.close("dc:language")
	if !d.Created.IsZero() {
		x.open("meta:creation-date")
		x.text(d.Created.UTC().Format("2006-01-02T15:04:05Z"))
		x.close("meta:creation-date")
	}
	x.close("office:meta")
	x.close("office:document-meta")
	return x.Bytes()
}
