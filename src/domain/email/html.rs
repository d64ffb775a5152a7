//! E-mail HTML made safe to show or send: ammonia with an allow-list fit for
//! e-mail (tables, inline styles limited to layout and colours), shared by
//! what customers send and the templates agents' replies are wrapped in.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The longest HTML kept (bytes, after sanitising).
pub const MAX_HTML: usize = 2 << 20;

/// CSS properties kept in `style` attributes: layout and colours only,
/// nothing that loads a URL or moves the text over the page.
const STYLE_KEPT: &[&str] = &[
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-align",
    "text-decoration",
    "line-height",
    "vertical-align",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "border",
    "border-collapse",
    "width",
    "height",
];

/// Sanitises an e-mail's HTML: no script, style sheet, form, frame or event
/// handler survives; links open apart; images keep `cid:`, `data:` and web
/// sources (web ones are blocked when shown, until asked). Returns the HTML
/// and whether it loads images from the web.
pub fn sanitize_html(html: &str) -> (String, bool) {
    let remote = Arc::new(AtomicBool::new(false));
    let seen = remote.clone();
    let mut b = ammonia::Builder::default();
    b.add_url_schemes(&["cid", "data"])
        .add_tag_attributes("img", &["width", "height", "style"])
        .add_tag_attributes("table", &["width", "border", "cellpadding", "cellspacing", "style"])
        .add_tag_attributes("td", &["width", "style", "colspan", "rowspan", "align", "valign"])
        .add_tag_attributes("p", &["style", "align"])
        .add_tag_attributes("div", &["style", "align"])
        .add_tag_attributes("span", &["style"])
        .add_tag_attributes("font", &["color", "size", "face"])
        .add_tags(&["font", "center"])
        // Any element may carry a style: only the properties below survive.
        .add_generic_attributes(&["style"])
        .filter_style_properties(STYLE_KEPT.iter().copied().collect::<HashSet<_>>())
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                let v = value.trim();
                let lower = v.to_ascii_lowercase();
                if lower.starts_with("http:") || lower.starts_with("https:") || lower.starts_with("//") {
                    seen.store(true, Ordering::Relaxed);
                    Some(v.into())
                } else if lower.starts_with("cid:") || lower.starts_with("data:image/") {
                    Some(v.into())
                } else {
                    None
                }
            }
            _ => Some(value.into()),
        });
    let mut out = b.clean(html).to_string();
    if out.len() > MAX_HTML {
        // Too long to show: the text part stands for it.
        out.clear();
    }
    (out, remote.load(Ordering::Relaxed))
}
