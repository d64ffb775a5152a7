//! Routing: the queue's re-offer, missed-offer and waiting-alert settings, and
//! the notices they send.

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    // queue settings
    ("f.reoffer_secs", "Nova oferta após recusa (segundos)", "Offer again after a decline (seconds)"),
    (
        "f.reoffer_secs.hint",
        "Quem recusou ou deixou a oferta expirar recebe o mesmo atendimento de novo depois deste intervalo, se ninguém mais puder atendê-lo antes.",
        "Whoever declined or let the offer expire gets the same conversation again after this pause, unless someone else can take it first.",
    ),
    ("f.missed_offers_limit", "Ofertas expiradas seguidas até Não pronto", "Expired offers in a row before Not ready"),
    (
        "f.missed_offers_limit.hint",
        "Quem deixar este número de ofertas seguidas expirar fica Não pronto, e os supervisores são avisados. 0 desliga.",
        "An agent who lets this many offers in a row expire becomes Not ready, and the supervisors are told. 0 turns it off.",
    ),
    ("f.wait_alert_minutes", "Alerta de espera (minutos)", "Waiting alert (minutes)"),
    (
        "f.wait_alert_minutes.hint",
        "Avisa os supervisores quando um cliente espera na fila, sem ninguém atendendo, mais que isto. 0 desliga.",
        "Tells the supervisors when a customer waits in the queue, with nobody on it, longer than this. 0 turns it off.",
    ),
    // notifications
    (
        "notif.offers_missed",
        "Você ficou Não pronto: ofertas seguidas sem resposta",
        "You are now Not ready: offers in a row went unanswered",
    ),
    (
        "notif.agent_offers_missed",
        "Agente ficou Não pronto por ofertas sem resposta",
        "Agent set Not ready after unanswered offers",
    ),
    ("notif.conv_waiting", "Cliente esperando na fila", "Customer waiting in the queue"),
    (
        "audit.presence.set_not_ready_missed_offers",
        "Não pronto pelo sistema: ofertas sem resposta",
        "Set Não pronto by the system: offers left unanswered",
    ),
];
