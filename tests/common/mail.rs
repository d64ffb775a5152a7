//! A private Dovecot (IMAP) on 127.0.0.1 for the e-mail tests: its own
//! folder, config, users and port, stopped on drop. Customer mail is
//! delivered into it with IMAP APPEND, as a mail server would.
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use atende::channels::email::SyncReport;
use futures_util::TryStreamExt;
use tempfile::TempDir;

use super::{Client, TestApp};

/// Every test mailbox's password.
pub const MAIL_PW: &str = "senha-da-caixa";
/// The desk's mailbox.
pub const DESK: &str = "suporte@empresa.com.br";
/// A customer.
pub const CUSTOMER: &str = "cliente@exemplo.com.br";
/// Another customer.
pub const OTHER: &str = "outra@exemplo.com.br";

/// A running Dovecot.
pub struct Dovecot {
    /// Its folder (config, mail, logs).
    pub dir: TempDir,
    /// The IMAP port.
    pub port: u16,
    child: Child,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dovecot_bin() -> PathBuf {
    ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("dovecot is not installed (tests/run.sh installs dovecot-imapd)")
}

fn launch(bin: &std::path::Path, dir: &std::path::Path) -> Child {
    Command::new(bin)
        .args(["-F", "-c"])
        .arg(dir.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dovecot starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl Dovecot {
    /// Starts one with the desk's mailbox and two customers.
    pub fn start() -> Dovecot {
        let bin = dovecot_bin();
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = free_port();
        for sub in ["run", "mail", "state"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let users: String = [DESK, CUSTOMER, OTHER].iter().map(|u| format!("{u}:{{PLAIN}}{MAIL_PW}\n")).collect();
        std::fs::write(d.join("passwd"), users).unwrap();
        let root = is_root();
        let (who, extra) = if root {
            (
                "uid=dovecot gid=dovecot".to_string(),
                "default_login_user = dovenull\ndefault_internal_user = dovecot\nfirst_valid_uid = 100\n".to_string(),
            )
        } else {
            let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
            let me = me.trim();
            (
                format!("uid={me} gid={me}"),
                format!(
                    "default_login_user = {me}\ndefault_internal_user = {me}\n\
                     service anvil {{\n  chroot =\n}}\n"
                ),
            )
        };
        let conf = format!(
            "base_dir = {d}/run\ninstance_name = atende-test-{port}\nlog_path = {d}/dovecot.log\n\
             state_dir = {d}/state\nlisten = 127.0.0.1\nprotocols = imap\nssl = no\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = {who} home={d}/mail/%u\n}}\n\
             mail_location = maildir:{d}/mail/%u\n{extra}\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        if root {
            // Dovecot's own users read the folder and own the mail.
            Command::new("chmod").args(["755", &d.display().to_string()]).status().unwrap();
            Command::new("chown")
                .args(["-R", "dovecot:dovecot", &d.join("mail").display().to_string()])
                .status()
                .unwrap();
        }
        let child = launch(&bin, d);
        let mut dc = Dovecot { dir, port, child };
        dc.wait_ready(&bin);
        dc
    }

    // Waits until it accepts connections; a start that lost the port to a
    // dying predecessor (a restart) is tried again.
    fn wait_ready(&mut self, bin: &std::path::Path) {
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(15), "dovecot did not start: {}", self.log());
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(100));
                self.child = launch(bin, self.dir.path());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it as a service manager would (SIGTERM, then waits): its
    /// clients' sessions end; its mail stays.
    pub fn stop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port with the same mail.
    pub fn restart(&mut self) {
        let bin = dovecot_bin();
        self.child = launch(&bin, self.dir.path());
        self.wait_ready(&bin);
    }

    /// Dovecot's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    async fn session(&self, user: &str) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().expect("greeting");
        client.login(user, MAIL_PW).await.map_err(|(e, _)| e).unwrap()
    }

    /// Delivers a raw message into `user`'s INBOX.
    pub async fn deliver(&self, user: &str, raw: &str) {
        let mut s = self.session(user).await;
        s.append("INBOX", None, None, raw.replace("\r\n", "\n").replace('\n', "\r\n")).await.unwrap();
        s.logout().await.unwrap();
    }

    /// The raw messages in `user`'s INBOX, oldest first.
    pub async fn messages(&self, user: &str) -> Vec<String> {
        let mut s = self.session(user).await;
        let mb = s.select("INBOX").await.unwrap();
        if mb.exists == 0 {
            return vec![];
        }
        let fetched: Vec<_> = s.fetch("1:*", "(BODY.PEEK[])").await.unwrap().try_collect().await.unwrap();
        let out = fetched.iter().filter_map(|f| f.body().map(|b| String::from_utf8_lossy(b).into_owned())).collect();
        s.logout().await.unwrap();
        out
    }
}

/// A plain customer e-mail.
pub fn email(from: &str, to: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 01 Dec 2026 10:00:00 -0300\n\
         MIME-Version: 1.0\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )
}

/// One e-mail the SMTP sink took.
#[derive(Clone, Debug)]
pub struct Taken {
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO, in order.
    pub to: Vec<String>,
    /// The message as sent (dot-unstuffed).
    pub data: String,
}

/// An SMTP server on 127.0.0.1 that takes every e-mail, keeps it, and hands
/// it to the Dovecot mailboxes of its recipients (IMAP APPEND), as a mail
/// server would. `refuse_next` answers the next DATA with a temporary (451)
/// or a permanent (550) refusal.
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    /// What it took.
    pub taken: std::sync::Arc<std::sync::Mutex<Vec<Taken>>>,
    /// Codes to answer the next DATA commands with, first first.
    pub refuse_next: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>>,
    /// Connections it accepted.
    pub connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SmtpSink {
    /// Starts one delivering into `imap_port`'s mailboxes.
    pub async fn start(imap_port: u16) -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let taken: std::sync::Arc<std::sync::Mutex<Vec<Taken>>> = Default::default();
        let refuse_next: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<u16>>> = Default::default();
        let (t2, r2) = (taken.clone(), refuse_next.clone());
        let connections: std::sync::Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let c2 = connections.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                c2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (t3, r3) = (t2.clone(), r2.clone());
                tokio::spawn(async move {
                    let (rd, mut wr) = sock.into_split();
                    let mut rd = BufReader::new(rd);
                    let _ = wr.write_all(b"220 sink ESMTP\r\n").await;
                    let (mut from, mut to) = (String::new(), Vec::new());
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let cmd = line.trim_end().to_string();
                        let upper = cmd.to_ascii_uppercase();
                        let reply: String = if upper.starts_with("EHLO") {
                            "250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
                        } else if upper.starts_with("MAIL FROM:") {
                            from = cmd[10..]
                                .trim()
                                .trim_matches(['<', '>'])
                                .split_whitespace()
                                .next()
                                .unwrap_or("")
                                .to_string();
                            to.clear();
                            "250 ok\r\n".into()
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(cmd[8..].trim().trim_matches(['<', '>']).to_string());
                            "250 ok\r\n".into()
                        } else if upper == "DATA" {
                            let _ = wr.write_all(b"354 go\r\n").await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" || line == ".\n" {
                                    break;
                                }
                                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            }
                            let refusal = r3.lock().unwrap().pop_front();
                            match refusal {
                                Some(code) => format!("{code} sink refuses this one\r\n"),
                                None => {
                                    for rcpt in &to {
                                        if [DESK, CUSTOMER, OTHER].contains(&rcpt.as_str()) {
                                            append(imap_port, rcpt, &data).await;
                                        }
                                    }
                                    t3.lock().unwrap().push(Taken { from: from.clone(), to: to.clone(), data });
                                    "250 queued\r\n".into()
                                }
                            }
                        } else if upper == "QUIT" {
                            let _ = wr.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            "250 ok\r\n".into()
                        };
                        if wr.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SmtpSink { port, taken, refuse_next, connections }
    }

    /// How many e-mails it took.
    pub fn count(&self) -> usize {
        self.taken.lock().unwrap().len()
    }
}

async fn append(imap_port: u16, user: &str, raw: &str) {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap_port)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().expect("greeting");
    let mut s = client.login(user, MAIL_PW).await.map_err(|(e, _)| e).unwrap();
    s.append("INBOX", None, None, raw).await.unwrap();
    s.logout().await.unwrap();
}

pub async fn scalar(app: &TestApp, sql: String) -> i64 {
    app.state.db.read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?)).await.unwrap()
}

pub async fn text(app: &TestApp, sql: String) -> String {
    app.state.db.read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?)).await.unwrap()
}

pub async fn exec(app: &TestApp, sql: String) {
    app.state.db.write(move |c| Ok(c.execute_batch(&sql)?)).await.unwrap();
}

/// An e-mail queue whose mailbox (set through its admin page) is the desk's
/// mailbox on `dc`.
pub async fn mailbox<'a>(app: &'a TestApp, dc: &Dovecot, smtp_port: u16) -> (i64, Client<'a>) {
    let t = app.team("Atendimento").await;
    let mut admin = app.admin().await;
    let r = admin
        .post(
            "/admin/filas",
            &[
                ("name", "E-mail"),
                ("channel", "email"),
                ("team_id", &t.to_string()),
                ("offer_timeout_secs", "30"),
                ("agent_capacity", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = r.location().to_string();
    let q: i64 = page.split('/').nth(3).unwrap().parse().unwrap();
    let port = dc.port.to_string();
    let smtp = smtp_port.to_string();
    let r = admin.post(&page, &form(&port, MAIL_PW, &smtp)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    (q, admin)
}

pub fn form<'a>(port: &'a str, password: &'a str, smtp_port: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("imap_host", "127.0.0.1"),
        ("imap_port", port),
        ("imap_tls", "none"),
        ("imap_user", DESK),
        ("imap_password", password),
        ("folder", "INBOX"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", smtp_port),
        ("smtp_tls", "none"),
        ("smtp_user", ""),
        ("smtp_password", ""),
        ("from_name", "Suporte Empresa"),
        ("from_address", DESK),
        ("reply_to", ""),
        ("signature", "Equipe de suporte"),
        ("poll_secs", "60"),
        ("reopen_days", "7"),
    ]
}

pub async fn sync(app: &TestApp, q: i64) -> SyncReport {
    atende::channels::email::sync(&app.state, q).await.unwrap()
}

/// An e-mail queue on `dc` sending through `sink`, an agent (ana@x.com) of
/// its team, and a first e-mail from the customer (with `extra` headers and
/// `body`) read and claimed by her: (queue, conversation, agent).
pub async fn served(
    app: &TestApp,
    dc: &Dovecot,
    sink: &SmtpSink,
    extra: &str,
    body: &str,
) -> (i64, i64, atende::domain::users::User) {
    let (q, _admin) = mailbox(app, dc, sink.port).await;
    let t = scalar(app, "SELECT id FROM teams LIMIT 1".into()).await;
    let a = app.user("ana@x.com", atende::domain::users::Role::Agent, &[t]).await;
    let ana = app.state.db.read(move |c| Ok(atende::domain::users::get(c, a)?.unwrap())).await.unwrap();
    let first =
        email("José da Silva <cliente@exemplo.com.br>", DESK, "Troca de produto", "t1@exemplo.com.br", extra, body);
    dc.deliver(DESK, &first).await;
    sync(app, q).await;
    let c = scalar(app, format!("SELECT id FROM conversations WHERE queue_id = {q}")).await;
    atende::domain::conversations::claim(&app.state, &ana, c).await.unwrap();
    (q, c, ana)
}
