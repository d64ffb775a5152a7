//! Modelos HTML de e-mail: the admin's list and form (with a live preview in
//! a sandboxed frame), and the e-mail choices an agent has when replying or
//! starting a conversation (copies, blind copies, template).

use maud::{Markup, html};

use super::forms::{self, Opts};
use crate::domain::email::templates::{Form, PLACEHOLDERS, Template};
use crate::domain::validate::FormErrors;
use crate::i18n::{Locale, t};

/// What each placeholder of [`PLACEHOLDERS`] stands for, in its order.
const HELP: [&str; 5] = [
    "mail.tpl.ph.cliente_nome",
    "mail.tpl.ph.agente",
    "mail.tpl.ph.empresa",
    "mail.tpl.ph.protocolo",
    "mail.tpl.ph.conteudo",
];

/// What each placeholder stands for.
fn placeholder_help(loc: Locale) -> Markup {
    html! {
        details.tpl-help #tpl-help open {
            summary { (t(loc, "mail.tpl.placeholders")) }
            ul {
                @for (p, key) in PLACEHOLDERS.iter().zip(HELP) {
                    li { code { "{{" (p) "}}" } " — " (t(loc, key)) }
                }
            }
        }
    }
}

/// GET /admin/modelos-email
pub fn list(loc: Locale, list: &[Template], flash: Option<&str>) -> Markup {
    html! {
        div.page-head {
            h1 { (t(loc, "mail.tpl.title")) }
            a.btn.btn-primary href="/admin/modelos-email/novo" { "+ " (t(loc, "mail.tpl.new")) }
        }
        @if let Some(f) = flash { div.flash.flash-ok role="status" { (f) } }
        p.hint { (t(loc, "mail.tpl.about")) }
        section.card {
            @if list.is_empty() { p.empty { (t(loc, "mail.tpl.none")) } }
            @else {
                div.table-wrap { table.table #tpl-table {
                    thead { tr { th { (t(loc, "f.name")) } th { (t(loc, "mail.tpl.subject")) } th { (t(loc, "status.active")) } th {} } }
                    tbody { @for x in list { tr data-id=(x.id) {
                        td data-label=(t(loc, "f.name")) {
                            (x.name)
                            @if x.is_default { " " span.badge.badge-ok { (t(loc, "mail.tpl.default_badge")) } }
                        }
                        td data-label=(t(loc, "mail.tpl.subject")) {
                            @if x.subject.is_empty() { span.muted { "—" } } @else { (x.subject) }
                        }
                        td data-label=(t(loc, "status.active")) {
                            @if x.active { span.badge.badge-ok { (t(loc, "status.active")) } }
                            @else { span.badge.badge-off { (t(loc, "status.inactive")) } }
                        }
                        td.row-actions { a.btn.btn-sm href=(format!("/admin/modelos-email/{}", x.id)) { (t(loc, "action.edit")) } }
                    } } }
                } }
            }
        }
    }
}

/// The form of a new (`id` None) or stored template, with its preview.
pub fn form(loc: Locale, csrf: &str, id: Option<i64>, f: &Form, errs: &FormErrors, flash: Option<&str>) -> Markup {
    let action = match id {
        Some(id) => format!("/admin/modelos-email/{id}"),
        None => "/admin/modelos-email/novo".to_string(),
    };
    let preview = id.map(|id| format!("/admin/modelos-email/{id}/previa"));
    html! {
        p { a href="/admin/modelos-email" { "← " (t(loc, "mail.tpl.title")) } }
        h1 { @if id.is_some() { (f.name) } @else { (t(loc, "mail.tpl.new")) } }
        @if let Some(m) = flash { div.flash.flash-ok role="status" { (m) } }
        div.tpl-editor {
            form.form #tpl-form method="post" action=(action) {
                (forms::csrf(csrf))
                (forms::summary(loc, errs))
                (forms::input(loc, "name", t(loc, "f.name"), &f.name, errs, Opts { required: true, max: Some(80), ..Default::default() }))
                (forms::input(loc, "subject", t(loc, "mail.tpl.subject"), &f.subject, errs, Opts { max: Some(200), hint: Some("mail.tpl.subject.hint"), ..Default::default() }))
                div.field.has-error[errs.get("html").is_some()] {
                    label for="f-html" { (t(loc, "mail.tpl.html")) }
                    textarea #f-html.code name="html" rows="16" required spellcheck="false" aria-invalid=[errs.get("html").map(|_| "true")] { (f.html) }
                    p.hint { (t(loc, "mail.tpl.html.hint")) }
                    @if let Some(e) = errs.get("html") { p.field-error { (t(loc, e)) } }
                }
                (placeholder_help(loc))
                (forms::checkbox("is_default", t(loc, "mail.tpl.is_default"), f.is_default))
                @if let Some(e) = errs.get("is_default") { p.field-error { (t(loc, e)) } }
                p.hint { (t(loc, "mail.tpl.is_default.hint")) }
                (forms::checkbox("active", t(loc, "status.active"), f.active))
                div.form-actions {
                    button.btn.btn-primary type="submit" { (t(loc, "action.save")) }
                    button.btn #tpl-preview-btn type="submit" formaction="/admin/modelos-email/previa" formtarget="tpl-preview" formnovalidate {
                        (t(loc, "mail.tpl.preview"))
                    }
                    a.btn.btn-ghost href="/admin/modelos-email" { (t(loc, "action.cancel")) }
                }
            }
            section.card.tpl-preview {
                h2 { (t(loc, "mail.tpl.preview")) }
                p.hint { (t(loc, "mail.tpl.preview.hint")) }
                iframe #tpl-frame.email-frame name="tpl-preview" title=(t(loc, "mail.tpl.preview")) sandbox="allow-popups allow-popups-to-escape-sandbox"
                    src=[preview] {}
            }
        }
    }
}

/// A preview that could not be made: what is wrong with the typed template.
pub fn preview_refused(loc: Locale, errs: &FormErrors) -> String {
    html! {
        p style="color:#b42318;font-family:sans-serif" { (t(loc, "mail.tpl.preview.fix")) }
        ul style="font-family:sans-serif" { @for (_, k) in &errs.0 { li { (t(loc, k)) } } }
    }
    .into_string()
}

/// What an agent may add to an e-mail: copies, blind copies, the template.
/// `templates` are (id, name, is default); `copied` those already kept in
/// copy on the conversation; `values` (cc, bcc, template) what was typed.
pub fn extras(loc: Locale, templates: &[(i64, String, bool)], copied: &[String], values: [&str; 3]) -> Markup {
    let [cc, bcc, pick] = values;
    let default = templates.iter().find(|(_, _, d)| *d);
    html! {
        details.mail-extras #mail-extras open[!cc.is_empty() || !bcc.is_empty() || !pick.is_empty()] {
            summary { (t(loc, "mail.extras")) }
            @if !copied.is_empty() {
                p.hint #mail-copied { (t(loc, "mail.copied")) " " (copied.join(", ")) }
            }
            div.field-row {
                div.field {
                    label for="f-cc" { (t(loc, "mail.cc")) }
                    input #f-cc type="text" name="cc" maxlength="1000" value=(cc) autocomplete="off" placeholder="nome@exemplo.com.br";
                }
                div.field {
                    label for="f-bcc" { (t(loc, "mail.bcc")) }
                    input #f-bcc type="text" name="bcc" maxlength="1000" value=(bcc) autocomplete="off";
                }
                div.field {
                    label for="f-modelo" { (t(loc, "mail.template")) }
                    select #f-modelo name="modelo_email" {
                        option value="" selected[pick.is_empty()] {
                            @match default {
                                Some((_, n, _)) => { (t(loc, "mail.template.default")) ": " (n) }
                                None => (t(loc, "mail.template.plain")),
                            }
                        }
                        @for (id, n, d) in templates {
                            @if !*d { option value=(id) selected[pick == id.to_string()] { (n) } }
                        }
                        @if default.is_some() { option value="0" selected[pick == "0"] { (t(loc, "mail.template.plain")) } }
                    }
                }
            }
        }
    }
}
