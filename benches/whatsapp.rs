//! WhatsApp channel figures of Atende (issue 12, "Benchmark"), printed as
//! plain lines and a summary table.
//!
//! Run with `cargo bench --bench whatsapp` (`ATENDE_BENCH_SECTIONS=1` or `2`
//! runs one section; `ATENDE_BENCH_BIN=/path/to/atende` another server
//! build). Each section spawns the release binary on a temporary data folder
//! whose WhatsApp queue (its number, app secret and Graph base URL) is
//! written straight into SQLite before the server starts; the Graph base
//! points at a fake Graph API this process runs on 127.0.0.1
//! (`whatsapp/fake.rs`), which answers `POST /{version}/{phone}/messages`
//! like Meta, records each body's `biz_opaque_callback_data` and, like
//! Meta, posts a signed `sent` status webhook back for each accepted message
//! (retrying every second while the server is down, as Meta retries).
//! Section 1 (`whatsapp/ingest.rs`) posts signed webhook batches exactly as
//! Meta sends them (three in four carry one text message, one in four two
//! senders' two messages each and two statuses) from 64 keep-alive
//! connections, each message a new wamid from 3,000 distinct senders, and
//! measures acknowledged (200) messages per second and the latency of each
//! batch; then the `inbound_ids` rows must equal the messages acknowledged.
//! Section 2 (`whatsapp/outbox.rs`) seeds 10,000 agent replies waiting in
//! the outbox of a number sending at most 80 messages/s, starts the server,
//! kills it with SIGKILL after 40 s in the middle of a run (the fake sends
//! the signal as it accepts that run's first message), restarts it on the
//! same folder and waits until everything is delivered: the fake's records
//! give the duplicates, the missing, the sending rate per 1-second bucket
//! and the time to drain; the server's RSS is sampled every second. Rows the
//! kill left `sending` that never reached the fake wait for the outbox's
//! reconcile time (300 s): they are counted apart, with their wait, rather
//! than waited for.
//!
//! Every loop is bounded in count and in time. A missed target prints MISS;
//! a section that could not run prints FAILED and the bench exits 1. The
//! fake and the load clients share the machine's cores with the server.

mod common;
#[path = "whatsapp/fake.rs"]
mod fake;
#[path = "whatsapp/ingest.rs"]
mod ingest;
#[path = "whatsapp/outbox.rs"]
mod outbox;

use std::path::Path;

use hmac::{Hmac, Mac};
use rusqlite::params;
use serde_json::{Value, json};
use sha2::Sha256;

use common::{R, err, now_secs};
pub use common::{loadavg, mb};

/// The number's ids and secrets (as Meta's dashboard would give them).
pub const PHONE_ID: &str = "106540352242922";
pub const WABA: &str = "102290129340398";
pub const TOKEN: &str = "EAAGbenchtoken123";
pub const SECRET: &str = "benchappsecret456";
pub const VERSION: &str = "v23.0";

/// Environment variable listing the sections to run ("1,2" by default).
const SECTIONS_ENV: &str = "ATENDE_BENCH_SECTIONS";

/// `sha256=<hex HMAC-SHA256(app secret, raw body)>`, Meta's
/// `X-Hub-Signature-256`.
pub fn sign(body: &[u8]) -> String {
    // A key of any length is accepted by HMAC.
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A webhook body as Meta sends it for the number.
pub fn envelope(contacts: Value, messages: Value, statuses: Value) -> String {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "551140001234", "phone_number_id": PHONE_ID},
    });
    if contacts.as_array().is_some_and(|a| !a.is_empty()) {
        value["contacts"] = contacts;
    }
    if messages.as_array().is_some_and(|a| !a.is_empty()) {
        value["messages"] = messages;
    }
    if statuses.as_array().is_some_and(|a| !a.is_empty()) {
        value["statuses"] = statuses;
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA, "changes": [{"field": "messages", "value": value}]}]
    })
    .to_string()
}

/// The raw HTTP/1.1 request of a signed webhook POST.
pub fn webhook_req(queue: i64, body: &str) -> Vec<u8> {
    format!(
        "POST /webhooks/whatsapp/{queue} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: facebookexternalua\r\n\
         Content-Type: application/json\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\n\r\n{body}",
        sign(body.as_bytes()),
        body.len()
    )
    .into_bytes()
}

/// Turns `queue` into a WhatsApp queue whose number talks to the fake at
/// `graph` and sends at most `rate` messages per second (part of the
/// caller's transaction).
pub fn seed_number(c: &rusqlite::Connection, queue: i64, graph: std::net::SocketAddr, rate: i64) -> R<()> {
    c.execute("UPDATE queues SET channel = 'whatsapp' WHERE id = ?1", [queue]).map_err(err)?;
    c.execute(
        "INSERT INTO whatsapp_numbers (queue_id, phone_number_id, waba_id, access_token, app_secret, verify_token,
           display_number, graph_version, graph_base, state, updated_at, rate_per_sec)
         VALUES (?1, ?2, ?3, ?4, ?5, 'verifybench', '+55 11 4000-1234', ?6, ?7, 'ok', ?8, ?9)",
        params![queue, PHONE_ID, WABA, TOKEN, SECRET, VERSION, format!("http://{graph}"), now_secs(), rate],
    )
    .map_err(err)?;
    Ok(())
}

/// The WARN and ERROR lines of a server log: how many, and the first few.
pub fn log_problems(path: &Path) -> (usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let bad: Vec<&str> = text.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    (bad.len(), bad.iter().take(5).map(|l| l.chars().take(240).collect()).collect())
}

fn main() {
    let Some((total, mut sum, rt)) = common::start("whatsapp") else { return };
    println!("load average at start: [{}]", loadavg());
    let root = common::temp_root();
    let want = common::sections(SECTIONS_ENV, "1,2");
    let fake = match rt.block_on(fake::Fake::start()) {
        Ok(f) => f,
        Err(e) => {
            println!("cannot start the fake Graph API: {e}");
            std::process::exit(1);
        }
    };
    println!("fake Graph API on http://{}", fake.addr);
    if want("1") {
        println!("\n-- 1. signed webhook ingest, POST /webhooks/whatsapp/{{queue}} ({} connections)", ingest::CONNS);
        if let Err(e) = rt.block_on(ingest::bench(&mut sum, root.path(), &fake)) {
            sum.fail("wa_ingest_msgs_per_s", &e);
        }
    }
    if want("2") {
        println!(
            "\n-- 2. outbox: {} replies at {} messages/s, SIGKILL after {} s, restart, drain",
            outbox::REPLIES,
            outbox::RATE,
            outbox::KILL_AFTER.as_secs()
        );
        if let Err(e) = rt.block_on(outbox::bench(&mut sum, root.path(), &fake)) {
            sum.fail("wa_outbox_duplicates", &e);
        }
    }
    drop(root);
    common::finish(rt, total, sum, 360.0);
}
