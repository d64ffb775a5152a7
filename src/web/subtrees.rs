//! Route subtrees of the agent UI by object: tasks (with notifications,
//! pauses and the scheduler page), contacts, and the workbench inside a
//! conversation. The `get!` / `post!` macros and `form()` / `query()` come
//! from the parent module.

use std::convert::Infallible;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::ctx::Ctx;
use super::{
    FORM_LIMIT, contacts, desk, email, email_templates, form, query, supervision, tasks, template_form, whatsapp,
    workbench,
};
use crate::domain::validate::Input;

/// Tarefas, notifications, the top bar, pauses, supervisors' actions, the
/// scheduler page and the pause report.
pub(super) fn task_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let g = || warp::get().and(warp::path::end());
    let po = || warp::post().and(warp::path::end());
    let cx = || cx.clone();
    let list = p("tarefas").and(g()).and(cx()).and(query()).then(get!(tasks::list, [], [q]));
    let new = p!("tarefas" / "nova").and(warp::get()).and(cx()).and(query()).then(get!(tasks::new_form, [], [q]));
    let create = p("tarefas").and(po()).and(cx()).and(form()).then(post!(tasks::create, []));
    let view = p!("tarefas" / i64).and(warp::get()).and(cx()).then(get!(tasks::view, [id], []));
    let edit =
        p!("tarefas" / i64 / "editar").and(warp::get()).and(cx()).and(query()).then(get!(tasks::edit_form, [id], [q]));
    let update = p!("tarefas" / i64).and(warp::post()).and(cx()).and(form()).then(post!(tasks::update, [id]));
    macro_rules! task_action {
        ($seg:literal, $h:path) => {
            p!("tarefas" / i64 / $seg).and(warp::post()).and(cx()).and(form()).then(post!($h, [id])).boxed()
        };
    }
    let notif = p("notificacoes").and(g()).and(cx()).then(get!(tasks::notifications_page, [], []));
    let notif_read =
        p!("notificacoes" / "lidas").and(warp::post()).and(cx()).and(form()).then(post!(tasks::notifications_read, []));
    let bar = p("barra").and(g()).and(cx()).then(get!(tasks::bar, [], []));
    let pause = p("pausa").and(po()).and(cx()).and(form()).then(post!(tasks::pause_start, []));
    let pause_end = p!("pausa" / "fim").and(warp::post()).and(cx()).and(form()).then(post!(tasks::pause_end, []));
    let sup_end = p!("agentes" / i64 / "encerrar-pausa")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(tasks::supervise_end_pause, [id]));
    let sup_nr = p!("agentes" / i64 / "nao-pronto")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(tasks::supervise_not_ready, [id]));
    let jobs = p!("admin" / "agendador").and(warp::get()).and(cx()).then(get!(tasks::jobs_page, [], []));
    let pauses =
        p!("admin" / "relatorio-pausas").and(warp::get()).and(cx()).then(get!(super::reports::old_pauses, [], []));
    let pages = list.or(new).unify().or(create).unify().or(view).unify().or(edit).unify().or(update).unify().boxed();
    let actions = task_action!("pegar", tasks::take)
        .or(task_action!("finalizar", tasks::finish))
        .unify()
        .or(task_action!("arquivar", tasks::archive))
        .unify()
        .or(task_action!("adiar", tasks::postpone))
        .unify()
        .or(task_action!("excluir", tasks::delete))
        .unify()
        .or(task_action!("iniciar", tasks::start))
        .unify()
        .boxed();
    let bar_and_pauses = notif
        .or(notif_read)
        .unify()
        .or(bar)
        .unify()
        .or(pause)
        .unify()
        .or(pause_end)
        .unify()
        .or(sup_end)
        .unify()
        .or(sup_nr)
        .unify()
        .boxed();
    let admin = jobs.or(pauses).unify().boxed();
    pages.or(actions).unify().or(bar_and_pauses).unify().or(admin).unify().boxed()
}

/// Contatos: list, add, edit, the contact page, annotations, merging.
pub(super) fn contact_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let g = || warp::get().and(warp::path::end());
    let po = || warp::post().and(warp::path::end());
    let cx = || cx.clone();
    let list = p("contatos").and(g()).and(cx()).and(query()).then(get!(contacts::list, [], [q]));
    let new = p!("contatos" / "novo").and(warp::get()).and(cx()).and(query()).then(get!(contacts::new_form, [], [q]));
    let create = p("contatos").and(po()).and(cx()).and(form()).then(post!(contacts::create, []));
    let view = p!("contatos" / i64).and(warp::get()).and(cx()).then(get!(contacts::view, [id], []));
    let edit = p!("contatos" / i64 / "editar").and(warp::get()).and(cx()).then(get!(contacts::edit_form, [id], []));
    let update = p!("contatos" / i64).and(warp::post()).and(cx()).and(form()).then(post!(contacts::update, [id]));
    let note = p!("contatos" / i64 / "anotacoes")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(contacts::annotate, [id]));
    let merge_page = p!("contatos" / i64 / "mesclar").and(warp::get()).and(cx()).and(query()).then(get!(
        contacts::merge_page,
        [id],
        [q]
    ));
    let merge =
        p!("contatos" / i64 / "mesclar").and(warp::post()).and(cx()).and(form()).then(post!(contacts::merge, [id]));
    let pages = list.or(new).unify().or(create).unify().or(view).unify().boxed();
    let more = edit.or(update).unify().or(note).unify().or(merge_page).unify().or(merge).unify().boxed();
    pages.or(more).unify().boxed()
}

/// Whether the page's script sent this request (`X-Requested-With: fetch`):
/// it wants a fragment, not a redirect.
fn fetch_flag() -> impl Filter<Extract = (bool,), Error = Infallible> + Clone {
    warp::header::headers_cloned()
        .map(|h: warp::http::HeaderMap| h.get("x-requested-with").and_then(|v| v.to_str().ok()) == Some("fetch"))
}

/// Inside the conversation: notes' and tags' actions, scheduled reopening,
/// attachments, the PDF, search, outbound conversations, quick replies.
pub(super) fn workbench_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let g = || warp::get().and(warp::path::end());
    let po = || warp::post().and(warp::path::end());
    let cx = || cx.clone();
    let reopen_at = p!("atendimentos" / i64 / "reabrir-em")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(desk::schedule_reopen, [id]));
    let tag_add =
        p!("atendimentos" / i64 / "etiquetas").and(warp::post()).and(cx()).and(form()).then(post!(desk::tag_add, [id]));
    let tag_remove = p!("atendimentos" / i64 / "etiquetas" / i64 / "remover")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(desk::tag_remove, [id, tag]));
    let upload = p!("atendimentos" / i64 / "anexos")
        .and(warp::post())
        .and(cx())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(fetch_flag())
        .and(warp::body::content_length_limit(((crate::domain::attachments::MAX_FILE_MB as u64) << 20) + FORM_LIMIT))
        .and(warp::body::stream())
        .then(|id: i64, ctx: Ctx, ct: Option<String>, len: Option<u64>, fetch: bool, body| async move {
            let c = ctx.clone();
            c.finish(workbench::upload(ctx, id, ct, len, fetch, Box::pin(body)).await)
        });
    let download = p!("anexos" / i64).and(warp::get()).and(cx()).then(get!(workbench::download, [id], []));
    let pdf =
        p!("atendimentos" / i64 / "pdf").and(warp::get()).and(cx()).and(query()).then(get!(workbench::pdf, [id], [q]));
    let search_in = p!("atendimentos" / i64 / "pesquisar").and(warp::get()).and(cx()).and(query()).then(get!(
        workbench::search_in,
        [id],
        [q]
    ));
    let search_all = p("pesquisar").and(g()).and(cx()).and(query()).then(get!(workbench::search_all, [], [q]));
    let out_form = p!("atendimentos" / "novo").and(warp::get()).and(cx()).and(query()).then(get!(
        workbench::outbound_form,
        [],
        [q]
    ));
    let out_start =
        p!("atendimentos" / "novo").and(warp::post()).and(cx()).and(form()).then(post!(workbench::outbound_start, []));
    let qr_list = p("respostas").and(g()).and(cx()).then(get!(workbench::quick_replies, [], []));
    let qr_create = p("respostas")
        .and(po())
        .and(fetch_flag())
        .and(cx())
        .and(form())
        .then(post!(workbench::quick_reply_create, [fetch]));
    let qr_delete = p!("respostas" / i64 / "excluir")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(workbench::quick_reply_delete, [id]));
    let conv = reopen_at.or(tag_add).unify().or(tag_remove).unify().or(upload).unify().or(download).unify().boxed();
    let pages = pdf
        .or(search_in)
        .unify()
        .or(search_all)
        .unify()
        .or(out_form)
        .unify()
        .or(out_start)
        .unify()
        .or(qr_list)
        .unify()
        .or(qr_create)
        .unify()
        .or(qr_delete)
        .unify()
        .boxed();
    conv.or(pages).unify().boxed()
}

/// The channels' admin pages and conversation actions. WhatsApp: a queue's
/// number, its test and its templates (admins); in a conversation the
/// delivery ticks, sending a template and the opt-in. E-mail: a queue's
/// mailbox and its test.
pub(super) fn whatsapp_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let cx = || cx.clone();
    let show = p!("admin" / "filas" / i64 / "whatsapp").and(warp::get()).and(cx()).and(query()).then(get!(
        whatsapp::show,
        [id],
        [q]
    ));
    let save = p!("admin" / "filas" / i64 / "whatsapp")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::save, [id]));
    let test = p!("admin" / "filas" / i64 / "whatsapp" / "testar")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::test, [id]));
    let sync = p!("admin" / "filas" / i64 / "whatsapp" / "modelos" / "sincronizar")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::sync_templates, [id]));
    let fields = p!("admin" / "filas" / i64 / "whatsapp" / "modelos" / i64)
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::template_fields, [id, tid]));
    let file = p!("admin" / "filas" / i64 / "whatsapp" / "modelos" / i64 / "arquivo")
        .and(warp::post())
        .and(cx())
        .and(warp::header::optional::<String>("content-type"))
        .and(warp::header::optional::<u64>("content-length"))
        .and(warp::body::content_length_limit(((crate::domain::attachments::MAX_FILE_MB as u64) << 20) + FORM_LIMIT))
        .and(warp::body::stream())
        .then(|id: i64, tid: i64, ctx: Ctx, ct: Option<String>, len: Option<u64>, body| async move {
            let c = ctx.clone();
            c.finish(whatsapp::template_file(ctx, id, tid, ct, len, Box::pin(body)).await)
        });
    let place = p!("admin" / "filas" / i64 / "whatsapp" / "modelos" / i64 / "local")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::template_place, [id, tid]));
    let ticks =
        p!("atendimentos" / i64 / "entregas").and(warp::get()).and(cx()).then(get!(whatsapp::deliveries, [id], []));
    let send = p!("atendimentos" / i64 / "modelo")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::send_template, [id]));
    let optin = p!("atendimentos" / i64 / "optin")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(whatsapp::set_optin, [id]));
    let mail_show = p!("admin" / "filas" / i64 / "email").and(warp::get()).and(cx()).and(query()).then(get!(
        email::show,
        [id],
        [q]
    ));
    let mail_save =
        p!("admin" / "filas" / i64 / "email").and(warp::post()).and(cx()).and(form()).then(post!(email::save, [id]));
    let mail_test = p!("admin" / "filas" / i64 / "email" / "testar")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(email::test, [id]));
    let mail_html = p!("atendimentos" / i64 / "email" / i64).and(warp::get()).and(cx()).and(query()).then(get!(
        email::html_body,
        [id, mid],
        [q]
    ));
    show.or(save)
        .unify()
        .or(test)
        .unify()
        .or(mail_html)
        .unify()
        .or(mail_show)
        .unify()
        .or(mail_save)
        .unify()
        .or(mail_test)
        .unify()
        .or(sync)
        .unify()
        .or(fields)
        .unify()
        .or(file)
        .unify()
        .or(place)
        .unify()
        .or(ticks)
        .unify()
        .or(send)
        .unify()
        .or(optin)
        .unify()
        .boxed()
}

/// Modelos HTML de e-mail (admins): list, new, edit, previews.
pub(super) fn mail_template_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let cx = || cx.clone();
    let list = p!("admin" / "modelos-email").and(warp::get()).and(cx()).and(query()).then(get!(
        email_templates::list,
        [],
        [q]
    ));
    let new =
        p!("admin" / "modelos-email" / "novo").and(warp::get()).and(cx()).then(get!(email_templates::new, [], []));
    let create = p!("admin" / "modelos-email" / "novo")
        .and(warp::post())
        .and(cx())
        .and(template_form())
        .then(post!(email_templates::create, []));
    let typed = p!("admin" / "modelos-email" / "previa")
        .and(warp::post())
        .and(cx())
        .and(template_form())
        .then(post!(email_templates::preview_typed, []));
    let edit = p!("admin" / "modelos-email" / i64).and(warp::get()).and(cx()).and(query()).then(get!(
        email_templates::edit,
        [id],
        [q]
    ));
    let update = p!("admin" / "modelos-email" / i64)
        .and(warp::post())
        .and(cx())
        .and(template_form())
        .then(post!(email_templates::update, [id]));
    let preview = p!("admin" / "modelos-email" / i64 / "previa").and(warp::get()).and(cx()).then(get!(
        email_templates::preview,
        [id],
        []
    ));
    list.or(new)
        .unify()
        .or(create)
        .unify()
        .or(typed)
        .unify()
        .or(edit)
        .unify()
        .or(update)
        .unify()
        .or(preview)
        .unify()
        .boxed()
}

/// Acompanhamento (supervisors and administrators; each handler checks the
/// scope): the page, its panels' fragments, the read-only conversation and
/// the supervisor's actions.
pub(super) fn supervision_routes(
    cx: &(impl Filter<Extract = (Ctx,), Error = Infallible> + Clone + Send + Sync + 'static),
) -> BoxedFilter<(Response,)> {
    use warp::path as p;
    let cx = || cx.clone();
    let page = p("acompanhamento").and(warp::path::end()).and(warp::get()).and(cx()).and(query()).then(get!(
        supervision::page,
        [],
        [q]
    ));
    let agents =
        p!("acompanhamento" / "agentes").and(warp::get()).and(cx()).then(get!(supervision::agents_fragment, [], []));
    let queues = p!("acompanhamento" / "atendimentos").and(warp::get()).and(cx()).and(query()).then(get!(
        supervision::queues_fragment,
        [],
        [q]
    ));
    let view = p!("acompanhamento" / "atendimentos" / i64).and(warp::get()).and(cx()).and(query()).then(get!(
        supervision::view,
        [id],
        [q]
    ));
    let end_pause = p!("acompanhamento" / "agentes" / i64 / "encerrar-pausa")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(supervision::end_pause, [id]));
    let not_ready = p!("acompanhamento" / "agentes" / i64 / "nao-pronto")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(supervision::not_ready, [id]));
    let assign = p!("acompanhamento" / "atendimentos" / i64 / "atribuir")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(supervision::assign, [id]));
    let transfer = p!("acompanhamento" / "atendimentos" / i64 / "transferir")
        .and(warp::post())
        .and(cx())
        .and(form())
        .then(post!(supervision::transfer, [id]));
    let pages = page.or(agents).unify().or(queues).unify().or(view).unify().boxed();
    let actions = end_pause.or(not_ready).unify().or(assign).unify().or(transfer).unify().boxed();
    pages.or(actions).unify().boxed()
}
