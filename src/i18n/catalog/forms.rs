//! Forms that do what they show: the task's due control and notifications,
//! the time zone select, the backup folder, pt-BR labels on the audit and
//! scheduler pages, channels that are not connected yet.

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    // task form: one due control
    ("forms.task.due_date", "Data", "Date"),
    ("forms.task.due_time", "Hora", "Time"),
    (
        "forms.task.due_hint",
        "Data e hora no fuso da empresa ({}). Os atalhos só preenchem os campos: o que estiver neles é o que será salvo.",
        "Date and time in the business time zone ({}). The shortcuts only fill the fields: what they show is what is saved.",
    ),
    ("forms.task.date_required", "Informe a data.", "Enter the date."),
    ("forms.task.time_required", "Informe a hora.", "Enter the time."),
    ("forms.task.bad_date", "Data inválida.", "Invalid date."),
    ("forms.task.bad_time", "Hora inválida.", "Invalid time."),
    ("forms.task.note_due_changed", "Prazo da tarefa alterado", "Task due time changed"),
    // notifications
    ("forms.notif.task_due", "Tarefa vence agora", "Task due now"),
    ("forms.notif.task_overdue", "Tarefa atrasada", "Task overdue"),
    // settings: the time zone select
    ("forms.tz.brazil", "Brasil", "Brazil"),
    ("forms.tz.others", "Outros fusos", "Other time zones"),
    (
        "forms.tz.hint",
        "Usado nos prazos das tarefas, nas pausas, nos relatórios e no backup diário.",
        "Used for task due times, pauses, reports and the daily backup.",
    ),
    // backup page
    ("forms.backup.data_dir", "Pasta de dados", "Data folder"),
    ("forms.backup.backup_dir", "Cópias diárias em", "Daily copies in"),
    (
        "forms.backup.daily_about",
        "Uma cópia é feita todo dia às {} (fuso da empresa); as {} mais recentes são mantidas.",
        "A copy is made every day at {} (business time zone); the newest {} are kept.",
    ),
    // audit details
    ("forms.audit.rows", "Linhas", "Rows"),
    ("forms.audit.filters", "Filtros", "Filters"),
    ("forms.audit.size", "Tamanho", "Size"),
    ("forms.audit.blocked", "Bloqueado por excesso de tentativas", "Blocked after too many attempts"),
    ("forms.audit.files", "Anexos", "Attachments"),
    ("forms.audit.empty_value", "(vazio)", "(empty)"),
    // scheduler: job names and schedules
    ("job.tasks.due", "Prazos das tarefas", "Task due times"),
    ("job.pauses.limits", "Limites das pausas", "Pause limits"),
    ("job.offers.expire", "Ofertas sem resposta", "Unanswered offers"),
    ("job.conversations.reopen", "Reaberturas agendadas", "Scheduled reopenings"),
    ("job.backup.daily", "Backup diário", "Daily backup"),
    ("job.sessions.cleanup", "Limpeza de sessões expiradas", "Expired sessions cleanup"),
    ("forms.cron.every_second", "A cada segundo", "Every second"),
    ("forms.cron.every_minute", "A cada minuto", "Every minute"),
    ("forms.cron.every_10_minutes", "A cada 10 minutos", "Every 10 minutes"),
    // channels not connected yet
    ("forms.channel.not_connected", "Canal não conectado", "Channel not connected"),
    (
        "forms.channel.not_connected.whatsapp",
        "Esta fila é de WhatsApp, mas o canal WhatsApp ainda não está conectado a este Atende: nada chega por ela e nada do que os agentes escrevessem seria entregue. Por isso os agentes não podem enviar mensagens nela.",
        "This is a WhatsApp queue, but the WhatsApp channel is not connected to this Atende yet: nothing arrives through it and nothing agents wrote would be delivered. So agents cannot send messages in it.",
    ),
    (
        "forms.channel.not_connected.email",
        "Esta fila é de e-mail, mas o canal de e-mail ainda não está conectado a este Atende: nada chega por ela e nada do que os agentes escrevessem seria entregue. Por isso os agentes não podem enviar mensagens nela.",
        "This is an e-mail queue, but the e-mail channel is not connected to this Atende yet: nothing arrives through it and nothing agents wrote would be delivered. So agents cannot send messages in it.",
    ),
    (
        "conv.channel_not_connected",
        "O canal desta fila ainda não está conectado: a mensagem não seria entregue ao cliente e não foi enviada.",
        "This queue's channel is not connected yet: the message would not reach the customer and was not sent.",
    ),
];
