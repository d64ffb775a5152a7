//! A private Dovecot (IMAP) on 127.0.0.1 for the e-mail tests: its own
//! folder, config, users and port, stopped on drop. Customer mail is
//! delivered into it with IMAP APPEND, as a mail server would.
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use tempfile::TempDir;

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl Dovecot {
    /// Starts one with the desk's mailbox and two customers.
    pub fn start() -> Dovecot {
        let bin = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("dovecot is not installed (tests/run.sh installs dovecot-imapd)");
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
        let child = Command::new(bin)
            .args(["-F", "-c"])
            .arg(d.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dovecot starts");
        let dc = Dovecot { dir, port, child };
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(dc.dir.path().join("dovecot.log")).unwrap_or_default();
            assert!(t0.elapsed() < Duration::from_secs(15), "dovecot did not start: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
        dc
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
