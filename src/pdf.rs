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

use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

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

// ---------------------------------------------------------------------------
// Fonts and glyph coverage.

static REGULAR_TTF: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../assets/fonts/LiberationSans-Bold.ttf");

/// Characters below this code point have their glyphs in a table built once.
const TABLE_LEN: usize = 0x300;

/// A glyph of one face: its id and advance in em.
#[derive(Clone, Copy)]
struct Glyph {
    id: u32,
    adv: f32,
}

/// The glyph of a character in the regular and in the bold face. A character is
/// drawable only when both faces have it.
type Pair = (Glyph, Glyph);

struct Face {
    font: Font,
    data: FontRef<'static>,
    metrics: GlyphMetrics<'static>,
    upem: f32,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Face, String> {
        let font = Font::new(bytes.into(), 0).ok_or("pdf: cannot load the embedded font")?;
        let data = FontRef::new(bytes).map_err(|e| format!("pdf: cannot read the embedded font: {e}"))?;
        let upem = f32::from(data.metrics(Size::unscaled(), LocationRef::default()).units_per_em);
        if upem <= 0.0 {
            return Err("pdf: the embedded font has no units per em".to_string());
        }
        let metrics = data.glyph_metrics(Size::unscaled(), LocationRef::default());
        Ok(Face { font, data, metrics, upem })
    }

    fn glyph(&self, c: char) -> Option<Glyph> {
        let gid = self.data.charmap().map(c)?;
        if gid.to_u32() == 0 {
            return None;
        }
        let adv = self.metrics.advance_width(gid)? / self.upem;
        adv.is_finite().then_some(Glyph { id: gid.to_u32(), adv })
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
    /// Glyphs of the characters below [`TABLE_LEN`].
    table: Vec<Option<Pair>>,
}

impl Fonts {
    fn load() -> Result<Fonts, String> {
        let regular = Face::load(REGULAR_TTF)?;
        let bold = Face::load(BOLD_TTF)?;
        let table = (0..TABLE_LEN as u32)
            .map(|u| char::from_u32(u).and_then(|c| Some((regular.glyph(c)?, bold.glyph(c)?))))
            .collect();
        Ok(Fonts { regular, bold, table })
    }

    fn get() -> Result<&'static Fonts, String> {
        static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
        FONTS.get_or_init(Fonts::load).as_ref().map_err(Clone::clone)
    }
}

/// Glyph look-ups for one render: the shared table plus a cache of the other
/// characters met, so the font is asked about each character once.
struct Glyphs {
    fonts: &'static Fonts,
    other: HashMap<char, Option<Pair>>,
}

impl Glyphs {
    fn new(fonts: &'static Fonts) -> Glyphs {
        Glyphs { fonts, other: HashMap::new() }
    }

    fn pair(&mut self, c: char) -> Option<Pair> {
        if let Some(p) = self.fonts.table.get(c as usize) {
            return *p;
        }
        let fonts = self.fonts;
        *self.other.entry(c).or_insert_with(|| Some((fonts.regular.glyph(c)?, fonts.bold.glyph(c)?)))
    }

    /// The glyph of a character of cleaned text (which is always drawable).
    fn glyph(&self, c: char, bold: bool) -> Glyph {
        let p = match self.fonts.table.get(c as usize) {
            Some(p) => *p,
            None => self.other.get(&c).copied().flatten(),
        };
        match p {
            Some((r, b)) => {
                if bold {
                    b
                } else {
                    r
                }
            }
            None => Glyph { id: 0, adv: 0.0 },
        }
    }

    fn advance(&self, c: char, bold: bool) -> f32 {
        self.glyph(c, bold).adv
    }

    fn width(&self, s: &str, size: f32, bold: bool) -> f32 {
        s.chars().map(|c| self.advance(c, bold)).sum::<f32>() * size
    }

    /// `s` made drawable: `\r` removed, tabs as spaces, other whitespace as a
    /// space (or a line break), combining accents composed with their letter,
    /// invisible format characters dropped, each emoji or pictograph the fonts
    /// lack printed as one visible [`EMOJI_PLACEHOLDER`] (a whole sequence such
    /// as 👍🏽, 👨‍👩‍👧 or a flag counts as one), and any other character the
    /// fonts lack replaced with `?`. Line breaks are kept only when
    /// `multiline`, else they become spaces.
    fn clean(&mut self, s: &str, multiline: bool) -> String {
        let mut out = String::with_capacity(s.len());
        // Whether the last char pushed came from the text (so a combining mark may join it).
        let mut joinable = false;
        // The last thing pushed is an emoji placeholder that the next
        // character may still belong to (modifier, ZWJ sequence, flag).
        let mut emoji = Emoji::None;
        for c in s.chars() {
            let mut next_joinable = false;
            let was = std::mem::replace(&mut emoji, Emoji::None);
            match c {
                '\r' => {}
                '\t' => out.push_str(TAB),
                '\n' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                    out.push(if multiline { '\n' } else { ' ' })
                }
                '\u{0300}'..='\u{036F}' => {
                    if joinable && let Some(last) = out.pop() {
                        match compose(last, c).filter(|&k| self.pair(k).is_some()) {
                            Some(k) => out.push(k),
                            None => out.push(last),
                        }
                        next_joinable = true;
                    }
                }
                '\u{200D}' if was != Emoji::None => emoji = Emoji::Joined,
                '\u{FE0F}' | '\u{20E3}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}'
                    if was != Emoji::None =>
                {
                    emoji = was
                }
                '\u{1F1E6}'..='\u{1F1FF}' if was == Emoji::Flag => emoji = Emoji::Open,
                _ if is_pictograph(c) && was == Emoji::Joined && self.pair(c).is_none() => emoji = Emoji::Open,
                _ if is_invisible(c) => next_joinable = joinable,
                _ if c.is_control() => out.push('?'),
                _ if self.pair(c).is_some() => {
                    out.push(c);
                    next_joinable = true;
                }
                _ if c.is_whitespace() => out.push(' '),
                _ if is_pictograph(c) => {
                    // Registers the placeholder's glyph for drawing; should a
                    // font lack it, `?` still shows that something was there.
                    let mark = EMOJI_PLACEHOLDER.chars().all(|m| self.pair(m).is_some());
                    out.push_str(if mark { EMOJI_PLACEHOLDER } else { "?" });
                    emoji = if matches!(c, '\u{1F1E6}'..='\u{1F1FF}') { Emoji::Flag } else { Emoji::Open };
                }
                _ => out.push('?'),
            }
            joinable = next_joinable;
        }
        out
    }

    /// Greedy word wrap of one paragraph (no line breaks) into lines at most
    /// `first_w` (first line) and `rest_w` (others) wide. Words wider than a line
    /// are broken between characters. Spaces at a wrap point are dropped; an
    /// empty paragraph gives one empty line.
    fn wrap_para(&self, para: &str, size: f32, bold: bool, first_w: f32, rest_w: f32, out: &mut Vec<String>) {
        let start = out.len();
        let mut line = String::new();
        let mut line_w = 0.0f32;
        let mut max = first_w;
        let mut rest = para;
        while !rest.is_empty() {
            let sp_len = rest.len() - rest.trim_start_matches(' ').len();
            let (sp, after) = rest.split_at(sp_len);
            let word_len = after.find(' ').unwrap_or(after.len());
            let (word, after) = after.split_at(word_len);
            rest = after;
            if word.is_empty() {
                break; // trailing spaces
            }
            let ww = self.width(word, size, bold);
            // Leading spaces count only at the start of the paragraph.
            let sw = if line.is_empty() && out.len() > start { 0.0 } else { self.width(sp, size, bold) };
            if line_w + sw + ww <= max {
                if sw > 0.0 {
                    line.push_str(sp);
                }
                line.push_str(word);
                line_w += sw + ww;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                line_w = 0.0;
                max = rest_w;
                if ww <= max {
                    line.push_str(word);
                    line_w = ww;
                    continue;
                }
            }
            // A word wider than a line: break it between characters.
            for c in word.chars() {
                let cw = self.advance(c, bold) * size;
                if line_w + cw > max && !line.is_empty() {
                    out.push(std::mem::take(&mut line));
                    line_w = 0.0;
                    max = rest_w;
                }
                line.push(c);
                line_w += cw;
            }
        }
        if !line.is_empty() || out.len() == start {
            out.push(line);
        }
    }

    /// Wraps cleaned text that may hold line breaks.
    fn wrap(&self, text: &str, size: f32, bold: bool, first_w: f32, rest_w: f32) -> Vec<String> {
        let mut out = Vec::new();
        for (i, para) in text.split('\n').enumerate() {
            let w = if i == 0 { first_w } else { rest_w };
            self.wrap_para(para, size, bold, w, rest_w, &mut out);
        }
        out
    }
}

/// What stands in the PDF for an emoji the embedded fonts cannot draw: a
/// white square (Liberation Sans has it), so the reader sees that something
/// was there instead of text silently closing up.
pub const EMOJI_PLACEHOLDER: &str = "\u{25A1}";

/// Where [`Glyphs::clean`] is within an emoji sequence.
#[derive(Clone, Copy, PartialEq)]
enum Emoji {
    /// Not right after an emoji placeholder.
    None,
    /// Right after one: modifiers and selectors still belong to it.
    Open,
    /// After a zero-width joiner: the next pictograph joins the sequence.
    Joined,
    /// After a first regional indicator: the second makes the flag.
    Flag,
}

/// Invisible format characters: dropped without a trace.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{20E3}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Emoji and pictographs the fonts lack: one placeholder each rather than `?`.
fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{2139}' | '\u{2300}'..='\u{23FF}' | '\u{24C2}' | '\u{25A0}'..='\u{27BF}' | '\u{2900}'..='\u{297F}'
        | '\u{2B00}'..='\u{2BFF}' | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FBFF}')
}

/// The precomposed form of a letter and a combining accent, for the accents of
/// Portuguese and the other Latin languages met in practice.
fn compose(base: char, mark: char) -> Option<char> {
    let pairs = match mark {
        '\u{300}' => "AÀEÈIÌOÒUÙaàeèiìoòuù",
        '\u{301}' => "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćNŃnńSŚsśZŹzź",
        '\u{302}' => "AÂEÊIÎOÔUÛaâeêiîoôuû",
        '\u{303}' => "AÃOÕNÑaãoõnñ",
        '\u{308}' => "AÄEËIÏOÖUÜaäeëiïoöuüyÿ",
        '\u{30A}' => "AÅaåUŮuů",
        '\u{30C}' => "CČcčSŠsšZŽzžEĚeěRŘrřNŇnň",
        '\u{327}' => "CÇcçSŞsş",
        _ => return None,
    };
    let mut it = pairs.chars();
    while let (Some(b), Some(k)) = (it.next(), it.next()) {
        if b == base {
            return Some(k);
        }
    }
    None
}

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
