//! The WhatsApp connection of a queue: what to paste into Meta's dashboard,
//! the number's ids and secrets (never shown back), and its state.

use maud::{Markup, html};

use std::collections::BTreeMap;

use super::forms::{self, Opts};
use crate::domain::validate::FormErrors;
use crate::domain::whatsapp::optin::OptIn;
use crate::domain::whatsapp::templates::{self, Param, Part, Template};
use crate::domain::whatsapp::{Number, NumberForm};
use crate::i18n::{Locale, t};

/// The card on a WhatsApp queue's register page leading to its connection.
pub fn queue_card(loc: Locale, queue_id: i64, n: Option<&Number>) -> Markup {
    html! {
        section.card #wa-card {
            h2 { (t(loc, "wa.title")) " " (state_badge(loc, n)) }
            p.muted { (t(loc, "wa.card.hint")) }
            p { a.btn href=(format!("/admin/filas/{queue_id}/whatsapp")) { (t(loc, "wa.card.open")) } }
        }
    }
}

fn state_badge(loc: Locale, n: Option<&Number>) -> Markup {
    let (class, key) = match n {
        None => ("badge-danger", "wa.state.unset"),
        Some(n) if !n.complete() => ("badge-danger", "wa.state.unset"),
        Some(n) => match n.state.as_str() {
            "ok" => ("badge-ok", "wa.state.ok"),
            "bad_token" => ("badge-danger", "wa.state.bad_token"),
            "bad_id" => ("badge-danger", "wa.state.bad_id"),
            "unreachable" => ("badge-warn", "wa.state.unreachable"),
            "error" => ("badge-danger", "wa.state.error"),
            _ => ("badge-warn", "wa.state.unchecked"),
        },
    };
    html! { span.badge.(class) #wa-state { (t(loc, key)) } }
}

/// What the connection page shows.
pub struct Page<'a> {
    /// The queue's name.
    pub queue_name: &'a str,
    /// The number.
    pub number: &'a Number,
    /// The webhook's callback URL.
    pub webhook_url: &'a str,
    /// What the admin submitted, when it had errors (secrets blanked).
    pub typed: Option<&'a NumberForm>,
    /// A confirmation line.
    pub flash: Option<&'a str>,
    /// Why a template's setting was refused (catalog key).
    pub refused: Option<&'static str>,
    /// The number's templates.
    pub templates: &'a [Template],
    /// When they were last synchronised and the last failure.
    pub synced: (Option<i64>, &'a str),
    /// Contact fields a parameter may be prefilled from (code, label).
    pub sources: &'a [(String, String)],
    /// Business time zone.
    pub tz: &'a jiff::tz::TimeZone,
}

/// The connection page.
pub fn page(loc: Locale, csrf: &str, p: Page, errs: &FormErrors) -> Markup {
    let (queue_name, n, webhook_url, typed, flash) = (p.queue_name, p.number, p.webhook_url, p.typed, p.flash);
    let v = typed.cloned().unwrap_or_else(|| NumberForm {
        phone_number_id: n.phone_number_id.clone(),
        waba_id: n.waba_id.clone(),
        display_number: n.display_number.clone(),
        graph_version: n.graph_version.clone(),
        graph_base: n.graph_base.clone(),
        rate_per_sec: n.rate_per_sec.to_string(),
        optout_words: n.optout_words.clone(),
        reserved_outbound: n.reserved_outbound,
        ..Default::default()
    });
    let action = format!("/admin/filas/{}/whatsapp", n.queue_id);
    html! {
        p { a href=(format!("/admin/filas/{}", n.queue_id)) { "← " (queue_name) } }
        h1 { (t(loc, "wa.title")) ": " (queue_name) }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (f) } }
        section.card #wa-status {
            h2 { (t(loc, "wa.status")) " " (state_badge(loc, Some(n))) }
            @if !n.last_error.is_empty() { p.field-error #wa-last-error { (n.last_error) } }
            form method="post" action=(format!("{action}/testar")) {
                (forms::csrf(csrf))
                button.btn type="submit" disabled[!n.complete()] { (t(loc, "wa.test")) }
                @if !n.complete() { " " span.muted { (t(loc, "wa.test.needs")) } }
            }
        }
        section.card #wa-webhook {
            h2 { (t(loc, "wa.webhook")) }
            p.muted { (t(loc, "wa.webhook.hint")) }
            dl.details {
                dt { (t(loc, "wa.webhook.url")) } dd { code #wa-url { (webhook_url) } }
                dt { (t(loc, "wa.webhook.verify")) } dd { code #wa-verify { (n.verify_token) } }
                dt { (t(loc, "wa.webhook.fields")) } dd { code { "messages, message_template_status_update" } }
            }
        }
        form.form #wa-form method="post" action=(action) {
            (forms::csrf(csrf))
            (forms::summary(loc, errs))
            (forms::input(loc, "phone_number_id", t(loc, "wa.f.phone_number_id"), &v.phone_number_id, errs, Opts { required: true, max: Some(32), ..Default::default() }))
            (forms::input(loc, "waba_id", t(loc, "wa.f.waba_id"), &v.waba_id, errs, Opts { max: Some(32), hint: Some("wa.f.waba_id.hint"), ..Default::default() }))
            (forms::secret_input(loc, "access_token", "wa.f.access_token", n.has_token, errs))
            (forms::secret_input(loc, "app_secret", "wa.f.app_secret", n.has_secret, errs))
            (forms::input(loc, "display_number", t(loc, "wa.f.display_number"), &v.display_number, errs, Opts { max: Some(40), ..Default::default() }))
            (forms::input(loc, "graph_version", t(loc, "wa.f.graph_version"), &v.graph_version, errs, Opts { required: true, max: Some(8), ..Default::default() }))
            (forms::input(loc, "graph_base", t(loc, "wa.f.graph_base"), &v.graph_base, errs, Opts { required: true, max: Some(200), hint: Some("wa.f.graph_base.hint"), ..Default::default() }))
            (forms::input(loc, "rate_per_sec", t(loc, "wa.f.rate_per_sec"), &v.rate_per_sec, errs, Opts { kind: "number", required: true, max: Some(4), hint: Some("wa.f.rate_per_sec.hint"), ..Default::default() }))
            (forms::input(loc, "optout_words", t(loc, "wa.f.optout_words"), &v.optout_words, errs, Opts { required: true, max: Some(400), hint: Some("wa.f.optout_words.hint"), ..Default::default() }))
            (forms::checkbox("reserved_outbound", t(loc, "wa.f.reserved_outbound"), v.reserved_outbound))
            p.hint { (t(loc, "wa.f.reserved_outbound.hint")) }
            button.btn.btn-primary type="submit" { (t(loc, "action.save")) }
        }
        (templates_card(loc, csrf, &p, &action))
    }
}

fn status_badge(loc: Locale, tpl: &Template) -> Markup {
    let (class, key) = match tpl.status.as_str() {
        "APPROVED" => ("badge-ok", "wa.tpl.st.approved"),
        "PENDING" | "IN_APPEAL" => ("badge-warn", "wa.tpl.st.pending"),
        "REJECTED" => ("badge-danger", "wa.tpl.st.rejected"),
        "PAUSED" => ("badge-warn", "wa.tpl.st.paused"),
        "DISABLED" => ("badge-danger", "wa.tpl.st.disabled"),
        _ => ("badge-off", "wa.tpl.st.other"),
    };
    html! { span.badge.(class) data-status=(tpl.status) { (t(loc, key)) } }
}

fn param_label(loc: Locale, tpl: &Template, p: &Param) -> String {
    match p.part {
        Part::Header => format!("{{{{{}}}}} ({})", p.key, t(loc, "wa.tpl.header")),
        Part::Body => format!("{{{{{}}}}} ({})", p.key, t(loc, "wa.tpl.body")),
        Part::Button => {
            let label = p.key.parse::<usize>().ok().and_then(|i| tpl.buttons.get(i)).map(String::as_str).unwrap_or("");
            format!("{} «{label}»", t(loc, "wa.tpl.button"))
        }
    }
}

fn part_code(p: &Param) -> &'static str {
    match p.part {
        Part::Header => "h",
        Part::Body => "p",
        Part::Button => "b",
    }
}

/// The file a media header sends, above a preview.
fn header_file_line(loc: Locale, tpl: &Template) -> Markup {
    html! {
        @if templates::media_kind(&tpl.header_kind).is_some() {
            p.wa-tpl-file {
                (t(loc, "wa.tpl.header_file")) ": "
                @match &tpl.header_file {
                    Some(f) => { strong { (f.name) } " " span.muted { "(" (crate::domain::attachments::human_size(f.size)) ")" } }
                    None => { span.muted { (t(loc, "wa.tpl.no_header_file")) } }
                }
            }
        }
    }
}

/// What an admin sets for a template's header: the file a media header
/// sends, or the place a LOCATION header shows.
fn header_setting(loc: Locale, csrf: &str, action: &str, tpl: &Template) -> Markup {
    let accept = match tpl.header_kind.as_str() {
        "IMAGE" => ".jpg,.jpeg,.png",
        "VIDEO" => ".mp4,.3gp",
        _ => ".pdf,.txt,.doc,.docx,.xls,.xlsx,.ppt,.pptx",
    };
    let place = tpl.place.clone().unwrap_or_default();
    let num = |v: f64| if tpl.place.is_some() { v.to_string() } else { String::new() };
    html! {
        @if templates::media_kind(&tpl.header_kind).is_some() {
            form.form.wa-tpl-file-form method="post" enctype="multipart/form-data" action=(format!("{action}/modelos/{}/arquivo", tpl.id)) {
                (forms::csrf(csrf))
                (header_file_line(loc, tpl))
                @let id = format!("f-{}-file", tpl.id);
                div.field {
                    label for=(id) { (t(loc, "wa.tpl.header_file")) }
                    input id=(id) type="file" name="file" accept=(accept) required;
                }
                button.btn.btn-sm type="submit" { (t(loc, "wa.tpl.upload_file")) }
            }
        } @else if tpl.header_kind == "LOCATION" {
            form.form.wa-tpl-place-form method="post" action=(format!("{action}/modelos/{}/local", tpl.id)) {
                (forms::csrf(csrf))
                p { strong { (t(loc, "wa.tpl.place")) } }
                @for (name, key, value, max, decimal) in [
                    ("latitude", "wa.tpl.latitude", num(place.latitude), 24, true),
                    ("longitude", "wa.tpl.longitude", num(place.longitude), 24, true),
                    ("place_name", "wa.tpl.place_name", place.name.clone(), 100, false),
                    ("place_address", "wa.tpl.place_address", place.address.clone(), 200, false),
                ] {
                    @let id = format!("f-{}-{name}", tpl.id);
                    div.field {
                        label for=(id) { (t(loc, key)) }
                        input id=(id) type="text" name=(name) value=(value) maxlength=(max) required[name != "place_address"]
                            inputmode=[decimal.then_some("decimal")];
                    }
                }
                button.btn.btn-sm type="submit" { (t(loc, "action.save")) }
            }
        }
    }
}

/// The templates' card on the number's page: synchronise, each template
/// with its status, preview and which contact field prefills each parameter.
fn templates_card(loc: Locale, csrf: &str, p: &Page, action: &str) -> Markup {
    let n = p.number;
    html! {
        section.card #wa-templates {
            h2 { (t(loc, "wa.tpl.title")) }
            p.muted #wa-synced {
                @match p.synced.0 {
                    Some(at) => { (t(loc, "wa.tpl.synced_at")) " " (super::datetime(at, p.tz)) }
                    None => { (t(loc, "wa.tpl.never_synced")) }
                }
            }
            @if !p.synced.1.is_empty() { p.field-error #wa-sync-error { (p.synced.1) } }
            @if let Some(k) = p.refused { div.flash.flash-error #wa-tpl-refused role="alert" { (t(loc, k)) } }
            form method="post" action=(format!("{action}/modelos/sincronizar")) {
                (forms::csrf(csrf))
                button.btn type="submit" disabled[!n.complete() || n.waba_id.is_empty()] { (t(loc, "wa.tpl.sync")) }
                @if n.waba_id.is_empty() { " " span.muted { (t(loc, "wa.tpl.needs_waba")) } }
            }
            @if p.templates.is_empty() { p.empty { (t(loc, "wa.tpl.none")) } }
            @else {
                div.table-wrap { table.table #wa-template-table {
                    thead { tr {
                        th { (t(loc, "wa.tpl.name")) } th { (t(loc, "wa.tpl.language")) } th { (t(loc, "wa.tpl.category")) }
                        th { (t(loc, "f.status")) } th { (t(loc, "wa.tpl.preview")) } th { (t(loc, "wa.tpl.fields")) }
                    } }
                    tbody { @for tpl in p.templates { tr id=(format!("wa-tpl-{}", tpl.id)) data-template=(tpl.name) {
                        td data-label=(t(loc, "wa.tpl.name")) { strong { (tpl.name) } }
                        td data-label=(t(loc, "wa.tpl.language")) { (tpl.language) }
                        td data-label=(t(loc, "wa.tpl.category")) { (tpl.category) }
                        td data-label=(t(loc, "f.status")) {
                            (status_badge(loc, tpl))
                            @if !tpl.reason.is_empty() { " " span.muted { (tpl.reason) } }
                            @if tpl.status == "APPROVED" { @if let Some(k) = tpl.unusable() { br; span.muted { (t(loc, k)) } } }
                        }
                        td data-label=(t(loc, "wa.tpl.preview")) {
                            (header_file_line(loc, tpl))
                            div.wa-tpl-preview { (tpl.render(&BTreeMap::new())) }
                        }
                        td data-label=(t(loc, "wa.tpl.fields")) {
                            (header_setting(loc, csrf, action, tpl))
                            @let params = tpl.params();
                            @if params.is_empty() { @if tpl.header_kind.is_empty() || tpl.header_kind == "TEXT" { span.muted { "—" } } }
                            @else {
                                form.form.wa-tpl-fields method="post" action=(format!("{action}/modelos/{}", tpl.id)) {
                                    (forms::csrf(csrf))
                                    @for prm in &params {
                                        @let id = format!("f-{}-{}", tpl.id, prm.input());
                                        div.field {
                                            label for=(id) { (param_label(loc, tpl, prm)) }
                                            select id=(id) name=(prm.input()) {
                                                option value="" { (t(loc, "wa.tpl.field_none")) }
                                                @for (code, label) in p.sources {
                                                    @let chosen = tpl.fields.get(&prm.input()) == Some(code);
                                                    option value=(code) selected[chosen] {
                                                        @match crate::i18n::catalog_key(label).filter(|_| !code.starts_with("f:")) { Some(k) => { (t(loc, k)) } None => { (label) } }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                    button.btn.btn-sm type="submit" { (t(loc, "action.save")) }
                                }
                            }
                        }
                    } } }
                } }
            }
        }
    }
}

/// One usable template with the values its parameters start with.
pub struct Choice<'a> {
    /// The template.
    pub template: &'a Template,
    /// Input name → prefilled value.
    pub prefill: BTreeMap<String, String>,
}

/// The template picker (seed 000 "Adicione modelo de mensagem"): each
/// approved template opens to its preview and a field per parameter; the
/// page's script renders the preview as the agent types. `hidden` are
/// extra fields the form carries (the start form's contact and queue);
/// `optin_box` asks the agent to confirm the contact's opt-in.
pub fn picker(
    loc: Locale,
    csrf: &str,
    action: &str,
    choices: &[Choice],
    hidden: &[(&str, String)],
    optin_box: bool,
) -> Markup {
    html! {
        section.wa-picker #wa-picker {
            h3 { (t(loc, "wa.tpl.add")) }
            @if choices.is_empty() { p.empty #wa-no-templates { (t(loc, "wa.tpl.none_usable")) } }
            @for ch in choices {
                @let tpl = ch.template;
                details.wa-tpl data-template=(tpl.name) open[choices.len() == 1] {
                    summary { strong { (tpl.name) } " " span.muted { (tpl.language) " · " (tpl.category) } }
                    form.form method="post" action=(action) {
                        (forms::csrf(csrf))
                        @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
                        input type="hidden" name="modelo" value=(tpl.id);
                        (header_file_line(loc, tpl))
                        div.wa-tpl-preview data-header=(tpl.header_template()) data-body=(tpl.body) data-rest=(tpl.tail()) aria-live="polite" {
                            (tpl.render(&ch.prefill))
                        }
                        @for prm in tpl.params() {
                            @let id = format!("f-t{}-{}", tpl.id, prm.input());
                            div.field {
                                label for=(id) { (param_label(loc, tpl, &prm)) }
                                input id=(id) type="text" name=(prm.input()) required maxlength="1024"
                                    data-param=(prm.key) data-part=(part_code(&prm))
                                    value=(ch.prefill.get(&prm.input()).map(String::as_str).unwrap_or(""));
                            }
                        }
                        @if optin_box {
                            label.check-inline { input type="checkbox" name="optin" value="1" required; " " (t(loc, "wa.optin.confirm")) }
                        }
                        button.btn.btn-primary type="submit" { (t(loc, "wa.tpl.send")) }
                    }
                }
            }
        }
    }
}

/// The contact's opt-in in a WhatsApp conversation's header (seed 000): its
/// state, who set it and when, and the switch.
pub fn optin_line(loc: Locale, csrf: &str, conv_id: i64, o: Option<&OptIn>, tz: &jiff::tz::TimeZone) -> Markup {
    let on = o.is_some_and(|o| o.on);
    html! {
        form.inline.wa-optin #wa-optin method="post" action=(format!("/atendimentos/{conv_id}/optin")) data-on=(on) {
            (forms::csrf(csrf))
            input type="hidden" name="ligar" value=(if on { "0" } else { "1" });
            span.muted {
                @match o {
                    Some(o) if o.on => { (t(loc, "wa.optin.on")) " · " (super::datetime(o.at, tz)) @if !o.by.is_empty() { " · " (o.by) } }
                    Some(o) if o.source == "customer" => { (t(loc, "wa.optin.out_customer")) " «" (o.word) "» · " (super::datetime(o.at, tz)) }
                    Some(o) => { (t(loc, "wa.optin.off")) " · " (super::datetime(o.at, tz)) @if !o.by.is_empty() { " · " (o.by) } }
                    None => { (t(loc, "wa.optin.none")) }
                }
            }
            " "
            button.btn.btn-sm type="submit" aria-pressed=(on) { (t(loc, if on { "wa.optin.turn_off" } else { "wa.optin.turn_on" })) }
        }
    }
}
