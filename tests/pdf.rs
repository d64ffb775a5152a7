//! PDF transcripts: rendered, then read back with `pdftotext -layout` (poppler-utils,
//! required: the test fails when it is missing) to check the words came through.

use std::io::Write;
use std::process::Command;

use atende::pdf::{Entry, Transcript, render};

const PDFTOTEXT: &str = "pdftotext";

fn msg(meta: &str, body: &str) -> Entry {
    Entry { meta: meta.into(), body: body.into(), ..Default::default() }
}

fn transcript() -> Transcript {
    let mut entries = vec![
        msg("Maria Conceição · 21/11/2026 14:00", "Olá! Recebi uma cobrança indevida e não sei o motivo 😀"),
        msg("Ana Souza · 21/11/2026 14:01", "Vou verificar a ação de estorno, Conceição.\nUm momento, por favor."),
        Entry {
            meta: "Ana Souza · 21/11/2026 14:02".into(),
            body: "Cliente já ligou ontem 🔔".into(),
            note: true,
            ..Default::default()
        },
        Entry {
            meta: "Maria Conceição · 21/11/2026 14:03".into(),
            body: String::new(),
            attachments: vec!["comprovante-pagamento.pdf".into(), "foto.jpg".into()],
            ..Default::default()
        },
        msg("Maria Conceição · 21/11/2026 14:04", &format!("Link: {}", "abcdefghij".repeat(40))),
        msg("Ana Souza · 21/11/2026 14:05", "<script>alert(1)</script>"),
        Entry { meta: "Conversa finalizada · Ana · 14:10".into(), system: true, ..Default::default() },
    ];
    for i in 0..300 {
        entries.push(msg(
            &format!("Ana Souza · 21/11/2026 15:{:02}", i % 60),
            &format!("Mensagem número {i}: a cobrança foi revisada e não há pendências nesta conta."),
        ));
    }
    Transcript {
        title: "Atendimento #12".into(),
        header: vec![
            ("Empresa".into(), "Loja Aurora".into()),
            ("Contato".into(), "Maria Conceição".into()),
            ("Fila".into(), "Financeiro".into()),
        ],
        note_label: "Nota interna".into(),
        attachment_label: "Anexo".into(),
        footer: "Página {page} de {pages}".into(),
        entries,
    }
}

/// The text of a PDF, as `pdftotext -layout` reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().expect("temp file");
    file.write_all(pdf).expect("write pdf");
    file.flush().expect("flush pdf");
    let out = match Command::new(PDFTOTEXT).arg("-layout").arg(file.path()).arg("-").output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run `{PDFTOTEXT}` ({e}): this test needs poppler-utils installed \
             (Debian: apt-get install poppler-utils)"
        ),
    };
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("pdftotext prints UTF-8")
}

#[test]
fn transcript_reads_back_with_accents_pages_and_literal_text() {
    let pdf = render(&transcript()).expect("render");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let text = pdf_text(&pdf);

    for word in ["Conceição", "cobrança", "não", "ação", "Atendimento #12", "Loja Aurora", "Empresa:"] {
        assert!(text.contains(word), "missing {word:?} in:\n{text}");
    }
    assert!(text.contains("Nota interna"), "note label missing");
    assert!(text.contains("Cliente já ligou ontem"), "note body missing");
    assert!(text.contains("Anexo: comprovante-pagamento.pdf"), "attachment missing");
    assert!(text.contains("Conversa finalizada · Ana · 14:10"), "timeline event missing");
    assert!(text.contains("<script>alert(1)</script>"), "markup not drawn literally");
    assert!(!text.contains('😀') && !text.contains('🔔'), "emoji leaked into the PDF");
    assert!(!text.contains('\u{FFFD}'), "replacement character in the PDF");

    // The long word is broken over lines but nothing of it is lost.
    let joined: String = text.split_whitespace().collect();
    assert!(joined.contains(&"abcdefghij".repeat(40)), "long word lost");

    // Every page has its footer, and N is the real page count.
    let pages = text.matches('\u{C}').count() + usize::from(!text.ends_with('\u{C}'));
    assert!(pages >= 3, "expected several pages, got {pages}");
    for page in 1..=pages {
        let footer = format!("Página {page} de {pages}");
        assert!(text.contains(&footer), "missing footer {footer:?}");
    }
    assert!(!text.contains(&format!("Página {} de", pages + 1)));
    assert!(text.contains("Mensagem número 299"), "last message missing");
}

#[test]
fn odd_input_never_panics() {
    let nasty = "\u{0}\u{1}\u{7F}\u{FEFF}\u{202E}abc\u{200D}👨‍👩‍👧漢字\u{301}\u{FFFD}\t\r\n\u{2028}x";
    let t = Transcript {
        title: nasty.into(),
        header: vec![(nasty.into(), nasty.repeat(50)), (String::new(), String::new())],
        note_label: String::new(),
        attachment_label: nasty.into(),
        footer: "{pages}/{page} {page".into(),
        entries: vec![
            Entry {
                meta: nasty.into(),
                body: nasty.repeat(20),
                note: true,
                system: true,
                attachments: vec![nasty.into()],
            },
            Entry::default(),
            msg("", &"W".repeat(20_000)),
            msg(nasty, &"\n".repeat(300)),
        ],
    };
    let pdf = render(&t).expect("render");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    assert!(text.contains("??"), "unsupported characters become '?'");
    assert!(!text.contains('👨'));

    let empty = render(&Transcript::default()).expect("render empty");
    assert!(empty.starts_with(b"%PDF-"));
}
