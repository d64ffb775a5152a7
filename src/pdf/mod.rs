//! PDF transcripts of conversations: A4 pages drawn with krilla and the embedded
//! Liberation Sans fonts (SIL Open Font License, see `assets/fonts/`).
//!
//! Rendering happens in two passes. [`render`] first cleans every string (only
//! characters both fonts have survive, see `Glyphs::clean`), wraps it greedily with
//! the fonts' advance widths and places each line on a page; once the page count
//! is known it draws the pages, footers included, as real text (glyph runs with a
//! text mapping, so copying and `pdftotext` give the words back).
//!
//! Text is never interpreted: markup such as `<script>` is drawn literally.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};

/// One line of the transcript header: a label and its value ("Empresa", "Loja Aurora").
pub type HeaderLine = (String, String);

/// One message of the transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Sender and time, e.g. "Ana Souza · 21/11/2026 14:03".
    pub meta: String,
    /// The text (may contain newlines; may be empty when the message is only attachments).
    pub body: String,
    /// An internal note: drawn apart, in amber, indented behind a bar, its meta line
    /// prefixed with [`Transcript::note_label`].
    pub note: bool,
    /// A timeline event line (e.g. "Conversa finalizada · Ana · 14:10") in `meta`,
    /// drawn small, grey and centred; `body` is normally empty.
    pub system: bool,
    /// Names of attached files, listed under the body.
    pub attachments: Vec<String>,
}

/// Everything a transcript shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Title, e.g. "Atendimento #12".
    pub title: String,
    /// Header lines (business name, contact, queue, agents, times…).
    pub header: Vec<HeaderLine>,
    /// Label printed before internal notes, e.g. "Nota interna".
    pub note_label: String,
    /// Label printed before attachment names, e.g. "Anexo".
    pub attachment_label: String,
    /// Footer text with page numbers: "{page}" and "{pages}" are replaced, e.g. "Página {page} de {pages}".
    pub footer: String,
    /// The messages, in order.
    pub entries: Vec<Entry>,
}

/// Renders the transcript as a PDF (A4), returning its bytes.
///
/// Never panics: a failure (including an unexpected one inside the PDF library)
/// comes back as `Err` with a short description.
pub fn render(t: &Transcript) -> Result<Vec<u8>, String> {
    match catch_unwind(AssertUnwindSafe(|| render_inner(t))) {
        Ok(r) => r,
        Err(_) => Err("pdf: internal error while rendering the transcript".to_string()),
    }
}

// ---------------------------------------------------------------------------
// Page geometry and styles (points; krilla's origin is the top-left corner).

const PAGE_W: f32 = 595.2756; // A4, 210 mm
const PAGE_H: f32 = 841.8898; // A4, 297 mm
const MARGIN_X: f32 = 56.0;
const TOP: f32 = 50.0;
/// Lowest y a content line may reach.
const BOTTOM: f32 = PAGE_H - 62.0;
/// Baseline of the footer.
const FOOTER_Y: f32 = PAGE_H - 34.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Baseline offset from the top of a line box, as a fraction of the font size.
const ASCENT: f32 = 0.9;
const LEADING: f32 = 1.32;

const TITLE_SIZE: f32 = 18.0;
const HEADER_SIZE: f32 = 10.0;
const META_SIZE: f32 = 8.5;
const BODY_SIZE: f32 = 10.0;
const ATTACH_SIZE: f32 = 9.0;
const SYSTEM_SIZE: f32 = 8.0;
const FOOTER_SIZE: f32 = 8.0;
/// Space before each entry.
const ENTRY_GAP: f32 = 7.0;
/// Indent of the body and attachments of a note, right of its bar.
const NOTE_INDENT: f32 = 9.0;
const NOTE_BAR_W: f32 = 2.5;
const ATTACH_INDENT: f32 = 8.0;
/// Spaces a tab becomes.
const TAB: &str = "    ";

/// The colours of the transcript.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ink {
    Text,
    Meta,
    Muted,
    Note,
    NoteBar,
    Attachment,
    Rule,
}

impl Ink {
    fn rgb(self) -> (u8, u8, u8) {
        match self {
            Ink::Text => (28, 28, 30),
            Ink::Meta => (60, 64, 72),
            Ink::Muted => (118, 118, 124),
            Ink::Note => (120, 78, 0),
            Ink::NoteBar => (232, 170, 40),
            Ink::Attachment => (30, 78, 140),
            Ink::Rule => (190, 190, 196),
        }
    }
}

mod glyphs;
use glyphs::{Fonts, Glyphs};

// ---------------------------------------------------------------------------
// Layout: every line placed on its page before anything is drawn.

/// One run of text, drawn from its baseline.
struct Run {
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    ink: Ink,
    text: String,
}

/// A filled rectangle (the rule, note bars).
struct Bar {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    ink: Ink,
}

#[derive(Default)]
struct PageLayout {
    runs: Vec<Run>,
    bars: Vec<Bar>,
}

struct Layout {
    pages: Vec<PageLayout>,
    /// Top of the next line box on the last page.
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![PageLayout::default()], y: TOP }
    }

    fn page(&mut self) -> &mut PageLayout {
        if self.pages.is_empty() {
            self.pages.push(PageLayout::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn at_top(&self) -> bool {
        self.y <= TOP
    }

    /// Starts a new page unless `h` more points fit on this one (or it is still empty).
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM && !self.at_top() {
            self.pages.push(PageLayout::default());
            self.y = TOP;
        }
    }

    /// Places one line box of text size `size`, returning the top of the box
    /// and the baseline.
    fn line(&mut self, size: f32) -> (f32, f32) {
        let h = size * LEADING;
        self.ensure(h);
        let top = self.y;
        self.y += h;
        (top, top + size * ASCENT)
    }

    fn run(&mut self, x: f32, y: f32, size: f32, bold: bool, ink: Ink, text: String) {
        if !text.is_empty() {
            self.page().runs.push(Run { x, y, size, bold, ink, text });
        }
    }

    /// A bar beside a line box, merged with the bar just above it when they touch.
    fn side_bar(&mut self, top: f32, h: f32) {
        let page = self.page();
        if let Some(b) = page.bars.last_mut()
            && b.ink == Ink::NoteBar
            && (b.y + b.h - top).abs() < 0.01
        {
            b.h += h;
            return;
        }
        page.bars.push(Bar { x: MARGIN_X, y: top, w: NOTE_BAR_W, h, ink: Ink::NoteBar });
    }

    /// Lines of one style, each on its own line box.
    fn lines(&mut self, lines: Vec<String>, x: f32, size: f32, bold: bool, ink: Ink, bar: bool) {
        for text in lines {
            let (top, base) = self.line(size);
            if bar {
                self.side_bar(top, size * LEADING);
            }
            self.run(x, base, size, bold, ink, text);
        }
    }
}

fn lay_out(t: &Transcript, g: &mut Glyphs) -> Layout {
    let mut l = Layout::new();

    let title = g.clean(t.title.trim(), false);
    if !title.is_empty() {
        let lines = g.wrap(&title, TITLE_SIZE, true, CONTENT_W, CONTENT_W);
        l.lines(lines, MARGIN_X, TITLE_SIZE, true, Ink::Text, false);
        l.y += 6.0;
    }

    for (label, value) in &t.header {
        let label = g.clean(label.trim(), false);
        let value = g.clean(value.trim(), false);
        if label.is_empty() && value.is_empty() {
            continue;
        }
        let label = if label.is_empty() { String::new() } else { format!("{label}: ") };
        let label_w = g.width(&label, HEADER_SIZE, true);
        if label_w <= CONTENT_W * 0.4 {
            // "Label: value", the value wrapped with a hanging indent.
            let value_w = CONTENT_W - label_w;
            let lines = g.wrap(&value, HEADER_SIZE, false, value_w, value_w);
            for (i, text) in lines.into_iter().enumerate() {
                let (_, base) = l.line(HEADER_SIZE);
                if i == 0 {
                    l.run(MARGIN_X, base, HEADER_SIZE, true, Ink::Text, label.trim_end().to_string());
                }
                l.run(MARGIN_X + label_w, base, HEADER_SIZE, false, Ink::Text, text);
            }
        } else {
            let lines = g.wrap(label.trim_end(), HEADER_SIZE, true, CONTENT_W, CONTENT_W);
            l.lines(lines, MARGIN_X, HEADER_SIZE, true, Ink::Text, false);
            if !value.is_empty() {
                let lines = g.wrap(&value, HEADER_SIZE, false, CONTENT_W, CONTENT_W);
                l.lines(lines, MARGIN_X, HEADER_SIZE, false, Ink::Text, false);
            }
        }
    }

    // The rule under the header.
    l.ensure(14.0);
    l.y += 5.0;
    let y = l.y;
    l.page().bars.push(Bar { x: MARGIN_X, y, w: CONTENT_W, h: 0.8, ink: Ink::Rule });
    l.y += 6.0;

    let note_label = g.clean(t.note_label.trim(), false);
    let attachment_label = g.clean(t.attachment_label.trim(), false);
    for e in &t.entries {
        entry(&mut l, g, e, &note_label, &attachment_label);
    }
    l
}

fn entry(l: &mut Layout, g: &mut Glyphs, e: &Entry, note_label: &str, attachment_label: &str) {
    let meta = g.clean(e.meta.trim(), false);
    let body = g.clean(&e.body, true);
    let body = body.trim_start_matches('\n').trim_end();
    let attachments: Vec<String> = e
        .attachments
        .iter()
        .map(|a| {
            let a = g.clean(a.trim(), false);
            if attachment_label.is_empty() { a } else { format!("{attachment_label}: {a}") }
        })
        .collect();

    if !l.at_top() {
        l.y += ENTRY_GAP;
    }

    if e.system {
        // Small grey centred lines.
        let text = [meta.as_str(), body].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join("\n");
        for line in g.wrap(&text, SYSTEM_SIZE, false, CONTENT_W, CONTENT_W) {
            let w = g.width(&line, SYSTEM_SIZE, false);
            let (_, base) = l.line(SYSTEM_SIZE);
            l.run(MARGIN_X + ((CONTENT_W - w) / 2.0).max(0.0), base, SYSTEM_SIZE, false, Ink::Muted, line);
        }
        for a in attachments {
            let lines = g.wrap(&a, SYSTEM_SIZE, false, CONTENT_W, CONTENT_W);
            l.lines(lines, MARGIN_X, SYSTEM_SIZE, false, Ink::Muted, false);
        }
        return;
    }

    let (x, width, meta_ink, body_ink) = if e.note {
        (MARGIN_X + NOTE_INDENT, CONTENT_W - NOTE_INDENT, Ink::Note, Ink::Note)
    } else {
        (MARGIN_X, CONTENT_W, Ink::Meta, Ink::Text)
    };
    let meta = match (e.note && !note_label.is_empty(), meta.is_empty()) {
        (true, true) => note_label.to_string(),
        (true, false) => format!("{note_label} · {meta}"),
        (false, _) => meta,
    };

    // Keep the meta line with the first body line.
    l.ensure(META_SIZE * LEADING + BODY_SIZE * LEADING);
    if !meta.is_empty() {
        let lines = g.wrap(&meta, META_SIZE, true, width, width);
        l.lines(lines, x, META_SIZE, true, meta_ink, e.note);
    }
    if !body.is_empty() {
        let lines = g.wrap(body, BODY_SIZE, false, width, width);
        l.lines(lines, x, BODY_SIZE, false, body_ink, e.note);
    }
    let aw = width - ATTACH_INDENT;
    for a in attachments {
        let lines = g.wrap(&a, ATTACH_SIZE, false, aw, aw);
        l.lines(lines, x + ATTACH_INDENT, ATTACH_SIZE, false, Ink::Attachment, e.note);
    }
}

// ---------------------------------------------------------------------------
// Drawing.

fn fill(ink: Ink) -> Fill {
    let (r, g, b) = ink.rgb();
    Fill { paint: rgb::Color::new(r, g, b).into(), opacity: NormalizedF32::ONE, rule: FillRule::NonZero }
}

fn draw_run(surface: &mut Surface, g: &Glyphs, run: &Run, buf: &mut Vec<KrillaGlyph>) {
    buf.clear();
    for (i, c) in run.text.char_indices() {
        let glyph = g.glyph(c, run.bold);
        let range: Range<usize> = i..i + c.len_utf8();
        buf.push(KrillaGlyph::new(GlyphId::new(glyph.id), glyph.adv, 0.0, 0.0, 0.0, range, None));
    }
    let font = if run.bold { &g.fonts.bold.font } else { &g.fonts.regular.font };
    surface.draw_glyphs(Point::from_xy(run.x, run.y), buf, font.clone(), &run.text, run.size, false);
}

fn render_inner(t: &Transcript) -> Result<Vec<u8>, String> {
    let fonts = Fonts::get()?;
    let mut g = Glyphs::new(fonts);
    let layout = lay_out(t, &mut g);
    let footer = g.clean(t.footer.trim(), false);
    let total = layout.pages.len().to_string();
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("pdf: invalid page size")?;

    let mut doc = Document::new();
    let title = g.clean(t.title.trim(), false);
    let mut metadata = Metadata::new().creator("Atende".to_string());
    if !title.is_empty() {
        metadata = metadata.title(title);
    }
    doc.set_metadata(metadata);

    let mut buf = Vec::new();
    for (n, page_layout) in layout.pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for bar in &page_layout.bars {
            let mut pb = PathBuilder::new();
            if let Some(rect) = Rect::from_xywh(bar.x, bar.y, bar.w, bar.h) {
                pb.push_rect(rect);
                if let Some(path) = pb.finish() {
                    surface.set_fill(Some(fill(bar.ink)));
                    surface.draw_path(&path);
                }
            }
        }
        let mut ink = None;
        for run in &page_layout.runs {
            if ink != Some(run.ink) {
                surface.set_fill(Some(fill(run.ink)));
                ink = Some(run.ink);
            }
            draw_run(&mut surface, &g, run, &mut buf);
        }
        if !footer.is_empty() {
            let text = footer.replace("{page}", &(n + 1).to_string()).replace("{pages}", &total);
            if let Some(text) = g.wrap(&text, FOOTER_SIZE, false, CONTENT_W, CONTENT_W).into_iter().next() {
                let w = g.width(&text, FOOTER_SIZE, false);
                let x = MARGIN_X + ((CONTENT_W - w) / 2.0).max(0.0);
                surface.set_fill(Some(fill(Ink::Muted)));
                draw_run(
                    &mut surface,
                    &g,
                    &Run { x, y: FOOTER_Y, size: FOOTER_SIZE, bold: false, ink: Ink::Muted, text },
                    &mut buf,
                );
            }
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("pdf: cannot write the document: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyphs() -> Glyphs {
        Glyphs::new(Fonts::get().unwrap())
    }

    #[test]
    fn clean_keeps_accents_and_drops_what_the_font_lacks() {
        let mut g = glyphs();
        assert_eq!(g.clean("Conceição cobrança não ação à ê ú", false), "Conceição cobrança não ação à ê ú");
        assert_eq!(g.clean("oi 😀 tchau 🔔!", false), "oi □ tchau □!");
        assert_eq!(g.clean("👍🏽 ok ❤️", false), "□ ok □");
        // A sequence is one placeholder: family (ZWJ), flag, keycap.
        assert_eq!(g.clean("👨‍👩‍👧 🇧🇷🇵🇹 1️⃣", false), "□ □□ 1");
        assert!(g.pair('□').is_some(), "the placeholder must be drawable");
        assert_eq!(g.clean("漢字", false), "??");
        assert_eq!(g.clean("a\tb\r\nc\u{7}", true), "a    b\nc?");
        assert_eq!(g.clean("a\nb", false), "a b");
        // Decomposed accents (NFD, as macOS file names) are composed.
        assert_eq!(g.clean("Conceic\u{327}a\u{303}o", false), "Conceição");
        assert_eq!(g.clean("\u{301}x\u{200B}y", false), "xy");
    }

    #[test]
    fn wrap_is_greedy_and_breaks_long_words() {
        let mut g = glyphs();
        let text = g.clean("um dois três quatro cinco seis sete oito nove dez", false);
        let w = g.width("um dois três", 10.0, false) + 0.01;
        let lines = g.wrap(&text, 10.0, false, w, w);
        assert_eq!(lines[0], "um dois três");
        assert!(lines.iter().all(|l| g.width(l, 10.0, false) <= w));
        assert_eq!(lines.join(" "), text);

        let long = "x".repeat(500);
        let lines = g.wrap(&long, 10.0, false, 100.0, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| g.width(l, 10.0, false) <= 100.0));
        assert_eq!(lines.concat(), long);

        assert_eq!(g.wrap("a\n\nb", 10.0, false, 100.0, 100.0), vec!["a", "", "b"]);
        // A width too small for any character still makes progress.
        assert_eq!(g.wrap("abc", 10.0, false, 0.0, 0.0), vec!["a", "b", "c"]);
    }

    #[test]
    fn odd_inputs_render() {
        let empty = Transcript::default();
        assert!(render(&empty).unwrap().starts_with(b"%PDF-"));
        let t = Transcript {
            title: "\u{0}\u{FFFF}😀".into(),
            header: vec![("L".repeat(300), "v".repeat(3000)), (String::new(), String::new())],
            note_label: "🔔".into(),
            attachment_label: String::new(),
            footer: "{page}{pages}{page}".into(),
            entries: vec![
                Entry { note: true, ..Default::default() },
                Entry { system: true, body: "\n\n".into(), attachments: vec![String::new()], ..Default::default() },
                Entry { body: "\n".repeat(500), ..Default::default() },
            ],
        };
        assert!(render(&t).unwrap().starts_with(b"%PDF-"));
    }
}
