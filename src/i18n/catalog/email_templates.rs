//! Catalog entries of the e-mail templates (Modelos HTML de e-mail) and of
//! what an agent adds to an e-mail (copies, blind copies, template).

/// (key, pt-BR, English).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    ("admin.email_templates", "Modelos HTML de e-mail", "HTML e-mail templates"),
    (
        "admin.email_templates.about",
        "Cabeçalho, rodapé e cores das respostas por e-mail; o modelo padrão envolve toda resposta.",
        "Header, footer and colours of e-mail replies; the default template wraps every reply.",
    ),
    ("audit.email.template_saved", "Modelo de e-mail salvo", "E-mail template saved"),
    (
        "mail.bad_copy",
        "Há um endereço inválido em Cc ou Cco. Separe os endereços por vírgula.",
        "There is an invalid address in Cc or Bcc. Separate addresses with commas.",
    ),
    ("mail.bcc", "Cco (cópia oculta)", "Bcc (blind copy)"),
    ("mail.cc", "Cc (com cópia)", "Cc (copy)"),
    ("mail.copied", "Em cópia nesta conversa:", "In copy on this conversation:"),
    (
        "mail.extras_email_only",
        "Cópias e modelos de e-mail só valem em conversas por e-mail.",
        "Copies and e-mail templates apply to e-mail conversations only.",
    ),
    ("mail.extras", "Cc, Cco e modelo do e-mail", "Cc, Bcc and e-mail template"),
    ("mail.extras.start", "Se a fila for de e-mail", "If the queue is an e-mail one"),
    ("mail.template", "Modelo do e-mail", "E-mail template"),
    ("mail.template.default", "Padrão", "Default"),
    ("mail.template.plain", "Sem modelo (texto simples)", "No template (plain text)"),
    ("mail.too_many_copies", "No máximo 10 endereços em Cc e 10 em Cco.", "At most 10 addresses in Cc and 10 in Bcc."),
    (
        "mail.tpl.about",
        "Um modelo é o assunto e o HTML em volta do texto do atendente. Scripts, formulários e quadros são removidos ao salvar.",
        "A template is the subject and the HTML around the agent's text. Scripts, forms and frames are removed when saved.",
    ),
    ("mail.tpl_default_inactive", "O modelo padrão precisa estar ativo.", "The default template must be active."),
    ("mail.tpl.default_badge", "padrão", "default"),
    ("mail.tpl.html", "Corpo em HTML", "HTML body"),
    (
        "mail.tpl.html.hint",
        "Use estilos no próprio elemento (style=\"…\"); imagens por endereço https.",
        "Use inline styles (style=\"…\"); images by https address.",
    ),
    ("mail.tpl.is_default", "Modelo padrão", "Default template"),
    (
        "mail.tpl.is_default.hint",
        "Envolve toda resposta por e-mail em que o atendente não escolhe outro modelo.",
        "Wraps every e-mail reply for which the agent picks no other template.",
    ),
    (
        "mail.tpl_needs_content",
        "O corpo precisa de {{conteudo}}: é ali que entra o texto do atendente.",
        "The body needs {{conteudo}}: that is where the agent's text goes.",
    ),
    ("mail.tpl.new", "Novo modelo", "New template"),
    ("mail.tpl.none", "Nenhum modelo cadastrado.", "No template yet."),
    ("mail.tpl.ph.agente", "nome do atendente", "agent's name"),
    ("mail.tpl.ph.cliente_nome", "nome do cliente", "customer's name"),
    (
        "mail.tpl.ph.conteudo",
        "texto do atendente, com a assinatura da caixa",
        "agent's text, with the mailbox signature",
    ),
    ("mail.tpl.ph.empresa", "nome da empresa", "business name"),
    ("mail.tpl.ph.protocolo", "número do atendimento", "conversation number"),
    ("mail.tpl.placeholders", "Marcadores", "Placeholders"),
    ("mail.tpl.preview", "Pré-visualizar", "Preview"),
    ("mail.tpl.preview.fix", "Corrija o modelo para ver a prévia:", "Fix the template to see the preview:"),
    (
        "mail.tpl.preview.hint",
        "Com valores de exemplo. \"Pré-visualizar\" mostra o que está digitado, antes de salvar.",
        "With sample values. \"Preview\" shows what is typed, before saving.",
    ),
    ("mail.tpl.subject", "Assunto", "Subject"),
    (
        "mail.tpl.subject.hint",
        "Usado quando o atendente inicia a conversa com este modelo; respostas mantêm o assunto da conversa.",
        "Used when an agent starts a conversation with this template; replies keep the conversation's subject.",
    ),
    ("mail.tpl.title", "Modelos HTML de e-mail", "HTML e-mail templates"),
    ("mail.tpl_too_long", "O HTML do modelo passa de 100 KB.", "The template's HTML is over 100 KB."),
    (
        "mail.tpl_unknown",
        "Esse modelo de e-mail não existe ou foi desativado.",
        "That e-mail template does not exist or was deactivated.",
    ),
    (
        "mail.tpl_unknown_placeholder",
        "Há um marcador desconhecido ou sem fechar. Use {{cliente.nome}}, {{agente}}, {{empresa}}, {{protocolo}} ou {{conteudo}}.",
        "There is an unknown or unclosed placeholder. Use {{cliente.nome}}, {{agente}}, {{empresa}}, {{protocolo}} or {{conteudo}}.",
    ),
    ("task.email_template", "Modelo de e-mail", "E-mail template"),
    (
        "task.email_template.hint",
        "Só para atividades de e-mail: \"Iniciar\" abre a conversa com este modelo.",
        "E-mail activities only: \"Start\" opens the conversation with this template.",
    ),
];
