//! Fonts and glyph coverage of the PDF renderer: the embedded faces, a
//! glyph table built once, and the cleaning that makes every character of a
//! transcript drawable (emoji become a visible mark, accents compose).

use std::collections::HashMap;
use std::sync::OnceLock;

use krilla::text::Font;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use super::TAB;

// ---------------------------------------------------------------------------
// Fonts and glyph coverage.

pub(super) static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
pub(super) static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");

/// Characters below this code point have their glyphs in a table built once.
pub(super) const TABLE_LEN: usize = 0x300;

/// A glyph of one face: its id and advance in em.
#[derive(Clone, Copy)]
pub(super) struct Glyph {
    pub(super) id: u32,
    pub(super) adv: f32,
}

/// The glyph of a character in the regular and in the bold face. A character is
/// drawable only when both faces have it.
pub(super) type Pair = (Glyph, Glyph);

pub(super) struct Face {
    pub(super) font: Font,
    pub(super) data: FontRef<'static>,
    pub(super) metrics: GlyphMetrics<'static>,
    pub(super) upem: f32,
}

impl Face {
    pub(super) fn load(bytes: &'static [u8]) -> Result<Face, String> {
        let font = Font::new(bytes.into(), 0).ok_or("pdf: cannot load the embedded font")?;
        let data = FontRef::new(bytes).map_err(|e| format!("pdf: cannot read the embedded font: {e}"))?;
        let upem = f32::from(data.metrics(Size::unscaled(), LocationRef::default()).units_per_em);
        if upem <= 0.0 {
            return Err("pdf: the embedded font has no units per em".to_string());
        }
        let metrics = data.glyph_metrics(Size::unscaled(), LocationRef::default());
        Ok(Face { font, data, metrics, upem })
    }

    pub(super) fn glyph(&self, c: char) -> Option<Glyph> {
        let gid = self.data.charmap().map(c)?;
        if gid.to_u32() == 0 {
            return None;
        }
        let adv = self.metrics.advance_width(gid)? / self.upem;
        adv.is_finite().then_some(Glyph { id: gid.to_u32(), adv })
    }
}

pub(super) struct Fonts {
    pub(super) regular: Face,
    pub(super) bold: Face,
    /// Glyphs of the characters below [`TABLE_LEN`].
    pub(super) table: Vec<Option<Pair>>,
}

impl Fonts {
    pub(super) fn load() -> Result<Fonts, String> {
        let regular = Face::load(REGULAR_TTF)?;
        let bold = Face::load(BOLD_TTF)?;
        let table = (0..TABLE_LEN as u32)
            .map(|u| char::from_u32(u).and_then(|c| Some((regular.glyph(c)?, bold.glyph(c)?))))
            .collect();
        Ok(Fonts { regular, bold, table })
    }

    pub(super) fn get() -> Result<&'static Fonts, String> {
        static FONTS: OnceLock<Result<Fonts, String>> = OnceLock::new();
        FONTS.get_or_init(Fonts::load).as_ref().map_err(Clone::clone)
    }
}

/// Glyph look-ups for one render: the shared table plus a cache of the other
/// characters met, so the font is asked about each character once.
pub(super) struct Glyphs {
    pub(super) fonts: &'static Fonts,
    pub(super) other: HashMap<char, Option<Pair>>,
}

impl Glyphs {
    pub(super) fn new(fonts: &'static Fonts) -> Glyphs {
        Glyphs { fonts, other: HashMap::new() }
    }

    pub(super) fn pair(&mut self, c: char) -> Option<Pair> {
        if let Some(p) = self.fonts.table.get(c as usize) {
            return *p;
        }
        let fonts = self.fonts;
        *self.other.entry(c).or_insert_with(|| Some((fonts.regular.glyph(c)?, fonts.bold.glyph(c)?)))
    }

    /// The glyph of a character of cleaned text (which is always drawable).
    pub(super) fn glyph(&self, c: char, bold: bool) -> Glyph {
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

    pub(super) fn advance(&self, c: char, bold: bool) -> f32 {
        self.glyph(c, bold).adv
    }

    pub(super) fn width(&self, s: &str, size: f32, bold: bool) -> f32 {
        s.chars().map(|c| self.advance(c, bold)).sum::<f32>() * size
    }

    /// `s` made drawable: `\r` removed, tabs as spaces, other whitespace as a
    /// space (or a line break), combining accents composed with their letter,
    /// invisible format characters dropped, each emoji or pictograph the fonts
    /// lack printed as one visible [`EMOJI_PLACEHOLDER`] (a whole sequence such
    /// as 👍🏽, 👨‍👩‍👧 or a flag counts as one), and any other character the
    /// fonts lack replaced with `?`. Line breaks are kept only when
    /// `multiline`, else they become spaces.
    pub(super) fn clean(&mut self, s: &str, multiline: bool) -> String {
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
    pub(super) fn wrap_para(
        &self,
        para: &str,
        size: f32,
        bold: bool,
        first_w: f32,
        rest_w: f32,
        out: &mut Vec<String>,
    ) {
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
    pub(super) fn wrap(&self, text: &str, size: f32, bold: bool, first_w: f32, rest_w: f32) -> Vec<String> {
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
pub(super) enum Emoji {
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
pub(super) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{20E3}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Emoji and pictographs the fonts lack: one placeholder each rather than `?`.
pub(super) fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{2139}' | '\u{2300}'..='\u{23FF}' | '\u{24C2}' | '\u{25A0}'..='\u{27BF}' | '\u{2900}'..='\u{297F}'
        | '\u{2B00}'..='\u{2BFF}' | '\u{3030}' | '\u{303D}' | '\u{3297}' | '\u{3299}'
        | '\u{1F000}'..='\u{1FBFF}')
}

/// The precomposed form of a letter and a combining accent, for the accents of
/// Portuguese and the other Latin languages met in practice.
pub(super) fn compose(base: char, mark: char) -> Option<char> {
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
