//! A private Dovecot (IMAP) on 127.0.0.1 for the e-mail bench, started the
//! way the tests start theirs (`dovecot -F -c <config>`, root or not): its
//! own folder, config, users and port; stopped on drop. Customer mail is put
//! into it with IMAP APPEND, as a mail server would deliver it.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::common::{R, err, free_port};

/// A running Dovecot.
pub struct Dovecot {
    dir: TempDir,
    /// The IMAP port.
    pub port: u16,
    child: Option<Child>,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl Dovecot {
    /// Starts one whose users are `users`, all with `password`.
    pub fn start(users: &[&str], password: &str) -> R<Dovecot> {
        let bin = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or("dovecot is not installed (apt-get install -y dovecot-imapd)")?;
        let dir = tempfile::tempdir().map_err(err)?;
        let d = dir.path();
        let port = free_port()?;
        for sub in ["run", "mail", "state"] {
            std::fs::create_dir_all(d.join(sub)).map_err(err)?;
        }
        let list: String = users.iter().map(|u| format!("{u}:{{PLAIN}}{password}\n")).collect();
        std::fs::write(d.join("passwd"), list).map_err(err)?;
        let root = is_root();
        let (who, extra) = if root {
            (
                "uid=dovecot gid=dovecot".to_string(),
                "default_login_user = dovenull\ndefault_internal_user = dovecot\nfirst_valid_uid = 100\n".to_string(),
            )
        } else {
            let out = Command::new("id").arg("-un").output().map_err(err)?;
            let me = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (
                format!("uid={me} gid={me}"),
                format!("default_login_user = {me}\ndefault_internal_user = {me}\nservice anvil {{\n  chroot =\n}}\n"),
            )
        };
        // The bench opens a few sessions at once from 127.0.0.1, and its
        // mail need not survive a power cut (no fsync per APPEND).
        let conf = format!(
            "base_dir = {d}/run\ninstance_name = atende-bench-{port}\nlog_path = {d}/dovecot.log\n\
             state_dir = {d}/state\nlisten = 127.0.0.1\nprotocols = imap\nssl = no\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\nmail_max_userip_connections = 50\nmail_fsync = never\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = {who} home={d}/mail/%u\n}}\n\
             mail_location = maildir:{d}/mail/%u\n{extra}\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).map_err(err)?;
        if root {
            // Dovecot's own users read the folder and own the mail.
            let ok = |s: std::io::Result<std::process::ExitStatus>| s.map(|s| s.success()).unwrap_or(false);
            if !ok(Command::new("chmod").arg("755").arg(d).status())
                || !ok(Command::new("chown").arg("-R").arg("dovecot:dovecot").arg(d.join("mail")).status())
            {
                return Err("cannot hand the mail folder to the dovecot user".into());
            }
        }
        let child = Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start dovecot: {e}"))?;
        let mut dc = Dovecot { dir, port, child: Some(child) };
        let t0 = Instant::now();
        for _ in 0..1_000 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(dc);
            }
            if t0.elapsed() > Duration::from_secs(15) {
                break;
            }
            if let Some(c) = dc.child.as_mut()
                && let Ok(Some(st)) = c.try_wait()
            {
                return Err(format!("dovecot exited ({st}): {}", dc.log()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("dovecot did not listen within 15 s: {}", dc.log()))
    }

    /// The master process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Dovecot's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Bytes under the mail folder (the maildirs).
    pub fn mail_bytes(&self) -> u64 {
        fn walk(p: &std::path::Path, depth: usize) -> u64 {
            let Ok(dir) = std::fs::read_dir(p) else { return 0 };
            let mut n = 0;
            for e in dir.flatten() {
                match e.metadata() {
                    Ok(m) if m.is_dir() && depth < 8 => n += walk(&e.path(), depth + 1),
                    Ok(m) => n += m.len(),
                    Err(_) => {}
                }
            }
            n
        }
        walk(&self.dir.path().join("mail"), 0)
    }
}

impl Drop for Dovecot {
    /// SIGTERM (the master stops its children), SIGKILL after 5 s.
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        // SAFETY: kill(2) on the pid of a child this process spawned.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A logged-in IMAP session as `user`.
pub async fn session(port: u16, user: &str, password: &str) -> R<async_imap::Session<tokio::net::TcpStream>> {
    let tcp = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(("127.0.0.1", port)))
        .await
        .map_err(|_| "IMAP connect timeout".to_string())?
        .map_err(err)?;
    let mut client = async_imap::Client::new(tcp);
    match tokio::time::timeout(Duration::from_secs(5), client.read_response()).await {
        Ok(Ok(Some(_))) => {}
        _ => return Err("no IMAP greeting".into()),
    }
    client.login(user, password).await.map_err(|(e, _)| format!("IMAP login: {e}"))
}
