//! Login and first-administrator setup pages.

use maud::{Markup, html};

use super::forms::{self, Opts};
use super::layout;
use crate::domain::validate::{FormErrors, Input};
use crate::i18n::{Locale, t};

/// The login page; `message` is an error or notice key shown above the form.
pub fn login(loc: Locale, csrf: &str, login: &str, next: &str, message: Option<(&str, String)>) -> Markup {
    let none = FormErrors::default();
    layout::auth_page(
        loc,
        t(loc, "login.title"),
        html! {
            h1 { (t(loc, "login.title")) }
            @if let Some((class, text)) = message {
                div class=(format!("flash {class}")) role="alert" { (text) }
            }
            form.form method="post" action="/entrar" {
                (forms::csrf(csrf))
                input type="hidden" name="next" value=(next);
                (forms::input(loc, "login", t(loc, "f.login"), login, &none,
                    Opts { required: true, max: Some(120), autocomplete: Some("username"), ..Default::default() }))
                (forms::input(loc, "password", t(loc, "f.password"), "", &none,
                    Opts { kind: "password", required: true, max: Some(128), autocomplete: Some("current-password"), ..Default::default() }))
                div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "action.login")) } }
            }
        },
    )
}

/// The form that creates the first administrator.
pub fn setup(loc: Locale, csrf: &str, token: &str, input: &Input, errs: &FormErrors) -> Markup {
    layout::auth_page(
        loc,
        t(loc, "setup.title"),
        html! {
            h1 { (t(loc, "setup.title")) }
            p.muted { (t(loc, "setup.intro")) }
            (forms::summary(loc, errs))
            form.form method="post" action=(format!("/setup/{token}")) {
                (forms::csrf(csrf))
                (forms::input(loc, "name", t(loc, "f.name"), input.get("name"), errs,
                    Opts { required: true, max: Some(100), ..Default::default() }))
                (forms::input(loc, "login", t(loc, "f.login"), input.get("login"), errs,
                    Opts { required: true, max: Some(120), hint: Some("f.login.hint"), autocomplete: Some("username"), ..Default::default() }))
                (forms::input(loc, "password", t(loc, "f.password"), "", errs,
                    Opts { kind: "password", required: true, max: Some(128), hint: Some("f.password.hint"), autocomplete: Some("new-password") }))
                (forms::input(loc, "password2", t(loc, "f.password2"), "", errs,
                    Opts { kind: "password", required: true, max: Some(128), autocomplete: Some("new-password"), ..Default::default() }))
                div.form-actions { button.btn.btn-primary type="submit" { (t(loc, "setup.submit")) } }
            }
        },
    )
}

/// Shown for a used, expired or unknown setup link.
pub fn setup_invalid(loc: Locale) -> Markup {
    layout::auth_page(
        loc,
        t(loc, "setup.title"),
        html! {
            h1 { (t(loc, "setup.invalid.title")) }
            p { (t(loc, "setup.invalid.text")) }
            p { a.btn.btn-primary href="/entrar" { (t(loc, "action.login")) } }
        },
    )
}
