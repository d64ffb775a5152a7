//! Strings of the authorization fixes (issue 11 §6) and of "one customer, one
//! name" (issue 11 §4).

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    (
        "contact.dup_email_hidden",
        "Este e-mail já pertence a um contato que você não pode abrir. Para falar com essa pessoa, use Iniciar conversa com este e-mail.",
        "This e-mail already belongs to a contact you cannot open. To talk to this person, use Start conversation with this e-mail.",
    ),
    (
        "contact.dup_phone_hidden",
        "Este telefone já pertence a um contato que você não pode abrir. Para falar com essa pessoa, use Iniciar conversa com este número.",
        "This phone already belongs to a contact you cannot open. To talk to this person, use Start conversation with this number.",
    ),
];
