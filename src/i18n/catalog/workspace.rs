//! The three-pane workspace: lists, the open conversation, the contact pane.

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    ("ws.lists", "Listas de atendimentos", "Conversation lists"),
    ("ws.pick_one", "Escolha um atendimento à esquerda.", "Pick a conversation on the left."),
    ("ws.back_to_lists", "Voltar às listas", "Back to the lists"),
    ("ws.quick_search", "Pesquisar mensagens e contatos", "Search messages and contacts"),
    ("ws.clear_filter", "Limpar filtro", "Clear filter"),
    (
        "ws.bad_filter",
        "Filtro inválido: escolha uma fila, um canal ou uma etiqueta da lista.",
        "Invalid filter: pick a queue, channel or tag from the list.",
    ),
    ("ws.closed", "Finalizadas", "Closed"),
    ("ws.closed_recent", "Finalizadas recentes", "Recently closed"),
    ("ws.closed_all", "Ver todas as finalizadas", "See all closed"),
    ("ws.closed_empty", "Nenhum atendimento finalizado nos últimos dias.", "No conversation closed in the last days."),
    ("ws.waiting_since", "Esperando há", "Waiting for"),
    ("ws.waited", "Esperou", "Waited"),
    ("ws.in_service_since", "Em atendimento há", "In service for"),
    ("ws.duration", "Duração", "Duration"),
    ("ws.contact", "Contato", "Contact"),
    ("ws.details", "Detalhes", "Details"),
    ("ws.annotation", "Anotação", "Annotation"),
    (
        "ws.annotation_hint",
        "Escreva uma anotação na linha do tempo do contato",
        "Write an annotation on the contact's timeline",
    ),
    ("ws.see_timeline", "Ver a linha do tempo completa", "See the whole timeline"),
    ("ws.no_tasks", "Nenhuma tarefa aberta.", "No open task."),
    ("ws.task_done", "Concluir", "Complete"),
    ("ws.task_delete_confirm", "Excluir esta tarefa?", "Delete this task?"),
    ("ws.transfer_confirm", "Transferir este atendimento?", "Transfer this conversation?"),
    ("ws.choose_agent", "Escolha um atendente", "Choose an agent"),
];
