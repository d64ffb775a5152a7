//! Form building blocks with error display.

use maud::{Markup, html};

use crate::domain::validate::FormErrors;
use crate::i18n::{Locale, t};

/// Hidden CSRF field every POST form carries.
pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="_csrf" value=(token); }
}

/// A box summarising that the form has errors.
pub fn summary(loc: Locale, errs: &FormErrors) -> Markup {
    html! {
        @if !errs.is_empty() {
            div.form-error role="alert" { (t(loc, "form.has_errors")) }
        }
    }
}

/// Options of an `<input>`.
#[derive(Default, Clone, Copy)]
pub struct Opts<'a> {
    /// Input type (text when empty).
    pub kind: &'a str,
    /// Required.
    pub required: bool,
    /// maxlength.
    pub max: Option<usize>,
    /// Catalog key of a hint.
    pub hint: Option<&'static str>,
    /// autocomplete attribute.
    pub autocomplete: Option<&'a str>,
}

/// A labelled input with its error message.
pub fn input(loc: Locale, name: &str, label: &str, value: &str, errs: &FormErrors, o: Opts) -> Markup {
    let err = errs.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(if o.kind.is_empty() { "text" } else { o.kind }) value=(value)
                required[o.required] maxlength=[o.max] autocomplete=[o.autocomplete]
                aria-invalid=[err.map(|_| "true")];
            @if let Some(h) = o.hint { p.hint { (t(loc, h)) } }
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}

/// A labelled select of (value, label) with its error message.
pub fn select(
    loc: Locale,
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    errs: &FormErrors,
    empty: Option<&str>,
) -> Markup {
    let err = errs.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (label) }
            select id=(id) name=(name) aria-invalid=[err.map(|_| "true")] {
                @if let Some(e) = empty { option value="" { (e) } }
                @for (v, l) in options {
                    option value=(v) selected[v == selected] { (l) }
                }
            }
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}

/// A checkbox with its label.
pub fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.field {
            label.check { input type="checkbox" name=(name) value="1" checked[checked]; " " (label) }
        }
    }
}

/// A group of checkboxes sharing one name.
pub fn checks(
    loc: Locale,
    name: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
    errs: &FormErrors,
) -> Markup {
    html! {
        fieldset.checks {
            legend { (legend) }
            @if options.is_empty() { p.muted { (t(loc, "form.none_available")) } }
            @for (v, l) in options {
                label.check { input type="checkbox" name=(name) value=(v) checked[checked.contains(v)]; " " (l) }
            }
            @if let Some(e) = errs.get(name) { p.field-error { (t(loc, e)) } }
        }
    }
}

/// Save and cancel buttons.
pub fn actions(loc: Locale, cancel: &str) -> Markup {
    html! {
        div.form-actions {
            button.btn.btn-primary type="submit" { (t(loc, "action.save")) }
            a.btn href=(cancel) { (t(loc, "action.cancel")) }
        }
    }
}

/// A password-like field that is never filled back: a stored value shows
/// only as "definido", and leaving it empty keeps it.
pub fn secret_input(loc: Locale, name: &str, label: &'static str, set: bool, errs: &FormErrors) -> Markup {
    let err = errs.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.has-error[err.is_some()] {
            label for=(id) { (t(loc, label)) @if set { " " span.badge.badge-ok { (t(loc, "wa.secret_set")) } } }
            input id=(id) name=(name) type="password" value="" autocomplete="off"
                placeholder=(if set { t(loc, "wa.secret_keep") } else { "" }) aria-invalid=[err.map(|_| "true")];
            @if let Some(e) = err { p.field-error { (t(loc, e)) } }
        }
    }
}
