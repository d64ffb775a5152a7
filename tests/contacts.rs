//! The contact book: phone normalization and search, the pages (add, edit,
//! extra fields, tags, bad input, escaping), who sees which contact,
//! timeline and annotations, tasks from a contact, merging.

mod common;

use atende::domain::contacts::{self, Query};
use atende::domain::conversations::{self as conv, VisitorMessage};
use atende::domain::registers::{self, Value};
use atende::domain::users::Role;
use atende::phone;
use common::TestApp;

async fn register(app: &TestApp, slug: &str, v: Vec<Value>) -> i64 {
    let spec = registers::spec(slug).unwrap();
    registers::create(&app.state.db, spec, v, app.actor()).await.unwrap()
}

/// Extra fields Plano (choice, required), Nascimento (date), Pontos (number)
/// and the contact tag VIP; returns their ids.
async fn fields_and_tag(app: &TestApp) -> (i64, i64, i64, i64) {
    let t = |s: &str| Value::Text(s.into());
    let plano = register(app, "campos", vec![t("Plano"), t("choice"), t("Básico\nPremium"), Value::Int(1)]).await;
    let nasc = register(app, "campos", vec![t("Nascimento"), t("date"), t(""), Value::Int(0)]).await;
    let pontos = register(app, "campos", vec![t("Pontos"), t("number"), t(""), Value::Int(0)]).await;
    let vip = register(app, "etiquetas", vec![t("VIP"), t("contact")]).await;
    (plano, nasc, pontos, vip)
}

async fn visitor(app: &TestApp, q: i64, token: &str, name: &str, phone: &str) -> i64 {
    let m = VisitorMessage { name: name.into(), phone: phone.into(), text: "Olá".into(), ..Default::default() };
    conv::visitor_message(&app.state, q, atende::domain::auth::token_hash(token), m).await.unwrap().0
}

async fn contact_of(app: &TestApp, conversation: i64) -> i64 {
    app.state.db.read(move |c| conv::load(c, conversation)).await.unwrap().unwrap().contact_id
}

fn id_from(location: &str) -> i64 {
    location.trim_start_matches("/contatos/").parse().unwrap()
}

#[test]
fn phones_are_normalized_to_e164_and_searches_are_classified() {
    assert_eq!(phone::normalize("(11) 98765-4321").as_deref(), Some("+5511987654321"));
    assert_eq!(phone::normalize("+55 11 98765 4321").as_deref(), Some("+5511987654321"));
    assert_eq!(phone::normalize("011 98765-4321").as_deref(), Some("+5511987654321"));
    assert_eq!(phone::normalize("+1 650-253-0000").as_deref(), Some("+16502530000"));
    assert_eq!(phone::normalize("123"), None);
    assert_eq!(phone::normalize("abc"), None);
    assert_eq!(phone::rev_key("+5511987654321"), "1234567891155");
    // A whole number is found by its E.164 form; a few digits by the ending.
    assert_eq!(contacts::classify("11 98765-4321").unwrap(), Query::Phone("1234567891155".into()));
    assert_eq!(contacts::classify("4321").unwrap(), Query::Phone("1234".into()));
    assert!(contacts::classify("12").is_err());
    assert_eq!(contacts::classify("Maria@Ex").unwrap(), Query::Email("maria@ex".into()));
    assert_eq!(contacts::classify("João  Silva").unwrap(), Query::Words("\"João\"* \"Silva\"*".into()));
    assert_eq!(contacts::classify(" ").unwrap(), Query::All);
    assert_eq!(contacts::classify("\"*").unwrap(), Query::All);
}

#[tokio::test]
async fn the_contact_pages_add_edit_search_and_refuse_bad_input() {
    let app = TestApp::new().await;
    let (plano, nasc, pontos, vip) = fields_and_tag(&app).await;
    let t = app.team("Suporte").await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    let (xp, xn, xo, tag) = (format!("x{plano}"), format!("x{nasc}"), format!("x{pontos}"), vip.to_string());

    ana.get("/contatos").await.has(&["Contatos", "Adicionar contato", "Nenhum contato encontrado."]);
    ana.get("/contatos/novo").await.has(&["Plano", "Nascimento", "Pontos", "VIP", "Premium"]);
    // Bad input: a clear message each, nothing stored.
    let bad: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("name", "Maria"), ("phone", "123"), (&xp, "Premium")], "Telefone inválido"),
        (vec![("name", "Maria"), ("email", "maria@"), (&xp, "Premium")], "E-mail inválido."),
        (vec![("name", "Maria")], "Campo obrigatório."),
        (vec![("name", "Maria"), (&xp, "Ouro")], "Escolha uma opção da lista."),
        (vec![("name", "Maria"), (&xp, "Básico"), (&xn, "31/02/1990")], "Data inválida."),
        (vec![("name", "Maria"), (&xp, "Básico"), (&xo, "doze")], "Informe um número"),
        (vec![(&xp, "Básico")], "Informe pelo menos o nome, o telefone ou o e-mail."),
        (vec![("name", "Maria"), (&xp, "Básico"), ("tag", "999")], "Escolha uma opção da lista."),
    ];
    for (fields, msg) in &bad {
        let r = ana.post("/contatos", fields).await;
        assert_eq!(r.status, 422, "{fields:?}");
        r.has(&[msg, "Corrija"]);
    }
    assert_eq!(app.count("contacts").await, 0);

    // A good one: normalized phone, lower-case e-mail, typed values, a tag; escaped.
    let r = ana
        .post(
            "/contatos",
            &[
                ("name", "Maria <b>Conceição</b>"),
                ("phone", "(11) 98765-4321"),
                ("email", "Maria@Example.com"),
                (&xp, "Premium"),
                (&xn, "1990-05-01"),
                (&xo, "12,5"),
                ("tag", &tag),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.location().to_string();
    let id = id_from(&loc);
    ana.get(&loc)
        .await
        .has(&["+5511987654321", "maria@example.com", "Premium", "1990-05-01", "12.5", "VIP"])
        .has(&["Maria &lt;b&gt;Conceição&lt;/b&gt;", "Contato criado", "Nenhum atendimento ainda."])
        .lacks(&["<b>Conceição"]);
    // The same phone (typed another way) or e-mail again: refused.
    let r = ana.post("/contatos", &[("name", "Outra"), ("phone", "+55 11 987654321"), (&xp, "Básico")]).await;
    assert_eq!(r.status, 409);
    r.has(&["Já existe um contato com este telefone."]);
    let r = ana.post("/contatos", &[("email", "MARIA@example.com"), (&xp, "Básico")]).await;
    assert_eq!(r.status, 409);
    r.has(&["Já existe um contato com este e-mail."]);
    assert_eq!(app.count("contacts").await, 1);
    let r = ana.post("/contatos", &[("name", "João Silva"), ("phone", "21 3333-4444"), (&xp, "Básico")]).await;
    assert_eq!(r.status, 303);

    // Search: phone first (any way of typing it, or its last digits), e-mail, name words without accents.
    for q in ["11987654321", "(11)%2098765-4321", "4321", "maria%40exam", "conceicao", "MARIA%20conc"] {
        ana.get(&format!("/contatos?q={q}")).await.has(&["Maria &lt;b&gt;Conceição"]).lacks(&["João Silva"]);
    }
    ana.get("/contatos?q=joao").await.has(&["João Silva"]).lacks(&["Conceição"]);
    ana.get("/contatos").await.has(&["João Silva", "Conceição"]);
    ana.get("/contatos?q=zzzz").await.has(&["Nenhum contato encontrado."]);
    let r = ana.get("/contatos?q=12").await;
    assert_eq!(r.status, 400);
    r.has(&["Digite pelo menos 4 dígitos do telefone."]);
    assert_eq!(ana.get("/contatos?apos=x").await.status, 400);

    // Edit: the form comes filled in; a bad value changes nothing.
    ana.get(&format!("{loc}/editar")).await.has(&["+5511987654321", "Premium", "checked"]);
    let r = ana.post(&loc, &[("name", "Maria"), ("phone", "999"), (&xp, "Premium")]).await;
    assert_eq!(r.status, 422);
    let r = ana.post(&loc, &[("name", "Maria Souza"), ("phone", "11 98765-4321"), (&xp, "Básico")]).await;
    assert_eq!(r.status, 303);
    ana.get(&loc).await.has(&["Maria Souza", "Básico"]).lacks(&["Premium", "VIP"]);

    // Annotations: escaped on the timeline; an empty one is refused.
    let r = ana.post(&format!("{loc}/anotacoes"), &[("body", "<script>alert(1)</script> ligar depois")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(ana.post(&format!("{loc}/anotacoes"), &[("body", "  ")]).await.status, 422);
    ana.get(&loc)
        .await
        .has(&["&lt;script&gt;alert(1)&lt;/script&gt; ligar depois", "Anotação"])
        .lacks(&["<script>alert"]);
    assert_eq!(app.count("contact_events").await, 1);

    // A task from the contact page.
    ana.get(&format!("/tarefas/nova?contato={id}")).await.has(&["Para o contato", "Maria Souza"]);
    let r = ana
        .post(
            "/tarefas",
            &[
                ("kind", "call"),
                ("title", "Ligar para a Maria"),
                ("quick", "1h"),
                ("assign", "me"),
                ("contact_id", &id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), loc);
    ana.get(&loc).await.has(&["Tarefa criada", "Ligar para a Maria"]);
    let contact: Option<i64> =
        app.state.db.read(|c| Ok(c.query_row("SELECT contact_id FROM tasks", [], |r| r.get(0))?)).await.unwrap();
    assert_eq!(contact, Some(id));
}

#[tokio::test]
async fn agents_see_only_contacts_of_their_queues_or_that_they_added() {
    let app = TestApp::new().await;
    let ta = app.team("Vendas").await;
    let tb = app.team("Suporte").await;
    let qa = app.queue("Site vendas", ta, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[ta]).await;
    app.user("bia@x.com", Role::Agent, &[tb]).await;
    let c = visitor(&app, qa, "tok-carla", "Carla Visitante", "11 91234-5678").await;
    let carla = contact_of(&app, c).await;
    let mut ana = app.login("ana@x.com").await;
    let mut bia = app.login("bia@x.com").await;
    let mut admin = app.admin().await;

    // Carla wrote to a Vendas queue: Ana's team sees her, Bia's does not.
    ana.get("/contatos").await.has(&["Carla Visitante"]);
    ana.get("/contatos?q=5678").await.has(&["Carla Visitante", "+5511912345678"]);
    let page = ana.get(&format!("/contatos/{carla}")).await;
    page.has(&["Atendimentos anteriores", &format!("/atendimentos/{c}"), "Site vendas", "Atendimento criado"]);
    // The panel beside the conversation: contact, this conversation's times, earlier ones.
    ana.get(&format!("/atendimentos/{c}"))
        .await
        .has(&["id=\"contact-panel\"", "Carla Visitante", "+5511912345678", "Site vendas", "Tempo de espera"])
        .has(&["Primeira resposta", &format!("/contatos/{carla}/editar"), "Nenhum atendimento ainda."]);
    let ana_user = app_user(&app, "ana@x.com").await;
    conv::claim(&app.state, &ana_user, c).await.unwrap();
    conv::send(&app.state, &ana_user, c, "Oi Carla").await.unwrap();
    conv::close(&app.state, &ana_user, c, false, None).await.unwrap();
    let c2 = visitor(&app, qa, "tok-carla", "", "").await;
    assert_ne!(c2, c);
    let page = ana.get(&format!("/atendimentos/{c2}")).await;
    page.has(&[&format!("href=\"/atendimentos/{c}\""), "Finalizado"]);
    let timing = app.state.db.read(move |db| conv::timing(db, c)).await.unwrap();
    assert!(timing.0.is_some() && timing.1.is_some(), "{timing:?}");
    bia.get("/contatos").await.lacks(&["Carla"]);
    bia.get("/contatos?q=5678").await.lacks(&["Carla"]);
    for path in ["", "/editar", "/mesclar"] {
        assert_eq!(bia.get(&format!("/contatos/{carla}{path}")).await.status, 404, "{path}");
    }
    assert_eq!(bia.post(&format!("/contatos/{carla}"), &[("name", "X")]).await.status, 404);
    assert_eq!(bia.post(&format!("/contatos/{carla}/anotacoes"), &[("body", "x")]).await.status, 404);
    assert_eq!(bia.get(&format!("/tarefas/nova?contato={carla}")).await.status, 404);
    let r = bia
        .post("/tarefas", &[("kind", "call"), ("title", "X"), ("quick", "1h"), ("contact_id", &carla.to_string())])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.count("tasks").await, 0);
    assert_eq!(app.count("contact_events").await, 0);

    // A contact Bia adds is hers (and the admin's), not Ana's.
    let r = bia.post("/contatos", &[("name", "Daniel Novo")]).await;
    assert_eq!(r.status, 303);
    let daniel = id_from(r.location());
    bia.get("/contatos").await.has(&["Daniel Novo"]);
    assert_eq!(ana.get(&format!("/contatos/{daniel}")).await.status, 404);
    ana.get("/contatos?q=daniel").await.lacks(&["Daniel"]);
    admin.get("/contatos").await.has(&["Daniel Novo", "Carla Visitante"]);
    // Merging needs both: Ana cannot merge Bia's contact into hers.
    assert_eq!(ana.post(&format!("/contatos/{carla}/mesclar"), &[("other", &daniel.to_string())]).await.status, 404);
    assert_eq!(app.audits("contact.merge").await, 0);
}

#[tokio::test]
async fn merging_two_contacts_keeps_both_histories_and_is_audited() {
    let app = TestApp::new().await;
    let (plano, _, _, vip) = fields_and_tag(&app).await;
    let t = app.team("Suporte").await;
    let q = app.queue("Site", t, 5, 30).await;
    app.user("ana@x.com", Role::Agent, &[t]).await;
    let mut ana = app.login("ana@x.com").await;
    // The contact Ana typed in, and the same person arriving by web chat.
    let r = ana
        .post("/contatos", &[("name", "Paulo Lima"), ("email", "paulo@lima.com"), (&format!("x{plano}"), "Premium")])
        .await;
    let keep = id_from(r.location());
    let c = visitor(&app, q, "tok-paulo", "", "11 97777-1111").await;
    let other = contact_of(&app, c).await;
    let sql = format!("INSERT INTO contact_tags (contact_id, tag_id) VALUES ({other}, {vip})");
    app.state.db.write(move |db| Ok(db.execute(&sql, [])?)).await.unwrap();
    ana.post(&format!("/contatos/{other}/anotacoes"), &[("body", "Cliente antigo")]).await;

    // Pick, confirm, merge.
    ana.get(&format!("/contatos/{keep}/mesclar?q=71111")).await.has(&["+5511977771111", &format!("outro={other}")]);
    ana.get(&format!("/contatos/{keep}/mesclar?outro={other}")).await.has(&[
        "Confirmar mesclagem",
        "Paulo Lima",
        "+5511977771111",
    ]);
    assert_eq!(ana.post(&format!("/contatos/{keep}/mesclar"), &[("other", &keep.to_string())]).await.status, 400);
    let r = ana.post(&format!("/contatos/{keep}/mesclar"), &[("other", &other.to_string())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.audits("contact.merge").await, 1);

    // One contact with both histories: the web chat conversation, the
    // annotation, the tag, the phone it lacked; its own values kept.
    ana.get(&format!("/contatos/{keep}"))
        .await
        .has(&["Paulo Lima", "+5511977771111", "paulo@lima.com", "Premium", "VIP"])
        .has(&[&format!("/atendimentos/{c}"), "Cliente antigo", "Contato mesclado"]);
    let r = ana.get(&format!("/contatos/{other}")).await;
    assert_eq!((r.status, r.location()), (303, format!("/contatos/{keep}").as_str()));
    ana.get("/contatos?q=71111").await.has(&[&format!("/contatos/{keep}\"")]).lacks(&[&format!("/contatos/{other}\"")]);
    // The visitor writing again lands on the surviving contact.
    conv::close(&app.state, &app_user(&app, "ana@x.com").await, c, false, None).await.unwrap_or(());
    let c2 = visitor(&app, q, "tok-paulo", "", "").await;
    assert_eq!(contact_of(&app, c2).await, keep);
    // Merging again is refused with a message; nothing changes.
    let r = ana.post(&format!("/contatos/{keep}/mesclar"), &[("other", &other.to_string())]).await;
    assert_eq!(r.status, 409);
    r.has(&["Este contato foi mesclado em outro."]);
    assert_eq!(app.audits("contact.merge").await, 1);
}

async fn app_user(app: &TestApp, login: &'static str) -> atende::domain::users::User {
    app.state
        .db
        .read(move |c| {
            let id: i64 = c.query_row("SELECT id FROM users WHERE login = ?1", [login], |r| r.get(0))?;
            atende::domain::users::get(c, id)
        })
        .await
        .unwrap()
        .unwrap()
}
