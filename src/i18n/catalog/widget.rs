//! The web chat widget: the queue's look and snippet page, the pre-chat gate,
//! the visitor's notices (typing, retrying, leaving a message).

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    // Queue admin page
    ("f.widget_title", "Título do chat", "Chat title"),
    ("f.widget_title.hint", "Vazio: o nome da empresa.", "Empty: the business name."),
    ("f.widget_greeting", "Saudação do chat", "Chat greeting"),
    (
        "f.widget_greeting.hint",
        "Uma linha sob o título, como \"Respondemos em poucos minutos\".",
        "One line under the title, like \"We answer within minutes\".",
    ),
    ("f.widget_color", "Cor do chat", "Chat colour"),
    ("f.widget_color.hint", "No formato #rrggbb, como #2563eb. Vazio: azul.", "As #rrggbb, like #2563eb. Empty: blue."),
    ("val.color", "Use uma cor no formato #rrggbb, como #2563eb.", "Use a colour written #rrggbb, like #2563eb."),
    ("widget.copy", "Copiar código", "Copy code"),
    ("widget.copied", "Copiado.", "Copied."),
    (
        "widget.sites_rule",
        "Sites autorizados: o chat só abre em páginas cujo endereço começa exatamente como um da lista — protocolo e nome inteiros, sem caminho. https://loja.com.br e https://www.loja.com.br são sites diferentes, assim como http:// e https://; inclua cada um que seus clientes usam. Com a lista vazia, qualquer site pode usar o chat desta fila.",
        "Allowed sites: the chat only opens on pages whose address starts exactly like one in the list — whole scheme and name, no path. https://shop.com and https://www.shop.com are different sites, as are http:// and https://; add each one your customers use. With an empty list any site may use this queue's chat.",
    ),
    ("widget.refused", "Sites recusados recentemente", "Recently refused sites"),
    ("widget.refused.none", "Nenhum site foi recusado.", "No site has been refused."),
    (
        "widget.refused.hint",
        "Páginas destes endereços tentaram abrir o chat e foram recusadas por não estarem em Sites autorizados (os 20 mais recentes).",
        "Pages at these addresses tried to open the chat and were refused for not being in Allowed sites (the newest 20).",
    ),
    ("widget.refused.origin", "Endereço", "Address"),
    ("widget.refused.last", "Última tentativa", "Last attempt"),
    ("widget.refused.hits", "Tentativas", "Attempts"),
    // Visitor API
    ("widget.bad_email", "Confira o e-mail: ele parece incompleto.", "Check the e-mail: it looks incomplete."),
    (
        "widget.prechat_required",
        "Preencha os dados pedidos antes de enviar a primeira mensagem.",
        "Fill in the requested details before sending the first message.",
    ),
    // Widget texts
    ("widget.typing", "digitando…", "typing…"),
    (
        "widget.retrying",
        "Não foi possível enviar agora. Sua mensagem está guardada; tentando de novo em {n} s…",
        "Could not send just now. Your message is kept; trying again in {n} s…",
    ),
    ("widget.sending", "Enviando…", "Sending…"),
    (
        "widget.offline_form",
        "Deixe seu nome, um contato e sua mensagem: ela entra na fila e responderemos assim que possível.",
        "Leave your name, a contact and your message: it goes into the queue and we will answer as soon as possible.",
    ),
    ("widget.contact", "Seu e-mail ou telefone", "Your e-mail or phone"),
    ("widget.leave", "Deixar mensagem", "Leave a message"),
    (
        "widget.left",
        "Recebemos sua mensagem. Ela está na fila e responderemos assim que possível.",
        "We got your message. It is in the queue and we will answer as soon as possible.",
    ),
    ("widget.unread", "mensagens novas", "new messages"),
    (
        "widget.network",
        "Sem conexão com o chat. Sua mensagem está guardada; tentando de novo em {n} s…",
        "No connection to the chat. Your message is kept; trying again in {n} s…",
    ),
    ("conv.visitor_typing", "O cliente está digitando…", "The customer is typing…"),
];
