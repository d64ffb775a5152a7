//! Faults an office machine meets: a full disk, a backup without room.

/// (key, pt-BR, en).
pub static ENTRIES: &[(&str, &str, &str)] = &[
    // a full disk, as the sender sees it
    ("err.storage_full.title", "Sem espaço em disco", "Out of disk space"),
    (
        "err.storage_full.text",
        "O servidor está sem espaço em disco; o que você enviou agora não foi salvo. Tente de novo em instantes.",
        "The server is out of disk space; what you just sent was not saved. Try again in a moment.",
    ),
    (
        "widget.storage_full",
        "O servidor está sem espaço em disco; sua mensagem não foi salva. Tente de novo em instantes.",
        "The server is out of disk space; your message was not saved. Try again in a moment.",
    ),
    // the admins' banner
    ("alert.storage_full.title", "Disco cheio.", "Disk full."),
    (
        "alert.storage_full.text",
        "O disco da pasta de dados ({}) encheu há {} min e {} gravações foram recusadas (quem enviou foi avisado de que não foi salvo); nada do que já estava salvo se perdeu. Libere espaço nesse disco: este aviso some sozinho quando uma gravação voltar a dar certo.",
        "The disk of the data folder ({}) filled up {} min ago and {} writes were refused (their senders were told they were not saved); nothing saved before was lost. Free space on that disk: this notice goes away by itself once a write succeeds again.",
    ),
    ("alert.backup_refused.title", "Backup diário recusado.", "Daily backup refused."),
    (
        "alert.backup_refused.text",
        "Faltou espaço em disco: a cópia precisava de {} livres e havia {}. Libere espaço; o backup é tentado de novo a cada minuto.",
        "Not enough disk space: the copy needed {} free and there was {}. Free space; the backup is tried again every minute.",
    ),
    // audit log
    ("audit.storage.full", "Disco cheio: gravações recusadas", "Disk full: writes refused"),
    ("audit.storage.recovered", "Espaço em disco de volta", "Disk space back"),
    ("audit.backup.refused", "Backup recusado por falta de espaço", "Backup refused for lack of space"),
    // backup page
    (
        "backup.refused",
        "O backup diário de {} foi recusado por falta de espaço: a cópia precisava de {} livres e havia {}. Ele é tentado de novo a cada minuto.",
        "The daily backup of {} was refused for lack of space: the copy needed {} free and there was {}. It is tried again every minute.",
    ),
    (
        "backup.space",
        "Espaço livre no disco dos backups: {}; uma cópia precisa de {} (o tamanho do banco mais uma folga).",
        "Free space on the backups' disk: {}; a copy needs {} (the database's size plus a margin).",
    ),
    (
        "backup.no_room",
        "Não há espaço em disco para a cópia: ela precisa de {needed} livres e há {free}. Libere espaço e tente de novo.",
        "There is no disk space for the copy: it needs {needed} free and there is {free}. Free space and try again.",
    ),
];
