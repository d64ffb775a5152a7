/* Atende web chat widget. Usage on your site:
 *   <script src="http://ATENDE-HOST:PORT/widget.js" data-queue="QUEUE_ID" defer></script>
 * Everything the visitor or an agent writes is shown as text, never as HTML.
 *
 * Connections: browsers allow six per host over plain HTTP, and a page kept in
 * the back/forward cache keeps its stream open. So the stream is closed on
 * `pagehide` and reopened on `pageshow`, and the tabs of one visitor share one
 * stream: the tab holding a Web Lock opens it and relays its events to the
 * other tabs over a BroadcastChannel (without those APIs, one stream per tab).
 *
 * Sending: a message waits in an outbox (kept in sessionStorage, so a reload
 * keeps it) until the server takes it. On 429 / 503 or no connection it is
 * retried by itself after Retry-After, and the visitor sees it is retrying; a
 * refused message goes back into the text box with the reason. Never dropped. */
(function () {
  "use strict";
  var me = document.currentScript || document.querySelector("script[data-queue][src*='widget.js']");
  if (!me || window.__atendeWidget) { return; }
  window.__atendeWidget = true;

  function safeStorage(name) {
    var s = null, mem = {};
    try { s = window[name]; s.getItem("atende"); } catch (e) { s = null; }
    return {
      get: function (k) { try { return s ? s.getItem(k) : (mem[k] || null); } catch (e) { return mem[k] || null; } },
      set: function (k, v) { try { if (s) { s.setItem(k, v); return; } } catch (e) { /* full or denied */ } mem[k] = v; }
    };
  }
  var enc = encodeURIComponent;
  var base = new URL(me.src, location.href).origin;
  var queue = me.getAttribute("data-queue");
  var api = base + "/api/widget/" + enc(queue);
  var key = "atende:" + base + ":" + queue;
  var store = safeStorage("localStorage"), session = safeStorage("sessionStorage");
  var token = store.get(key) || "";
  var lastId = 0, cfg = null, convId = null, status = null, agentSeen = false, lastAgent = "";
  var seen = +(store.get(key + ":seen") || 0), unread = 0;
  var need = [], preDone = false, profile = {};

  var host = document.createElement("div");
  host.id = "atende-widget";
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>" +
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}[hidden]{display:none!important}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--atende-color,#2563eb);color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}" +
    ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 24px);height:460px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}" +
    ".head{background:var(--atende-color,#2563eb);color:#fff;padding:12px 14px;font-weight:600}.head small{display:block;font-weight:400;opacity:.9}" +
    ".notice{background:#fef3c7;color:#92400e;padding:8px 12px;font-size:13px}.err{background:#fee2e2;color:#991b1b;padding:8px 12px;font-size:13px}" +
    ".msgs{flex:1;overflow-y:auto;padding:10px;background:#f1f5f9;display:flex;flex-direction:column;gap:6px}" +
    ".outbox{display:flex;flex-direction:column;gap:6px;padding:0 10px;background:#f1f5f9}.outbox:empty{display:none}" +
    ".m{max-width:80%;padding:7px 10px;border-radius:10px;font-size:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff}" +
    ".m.visitor{align-self:flex-end;background:#dbeafe}.m.agent{align-self:flex-start;position:relative;padding-left:42px;min-height:40px}.m b{display:block;font-size:11px;color:#64748b;margin-bottom:2px}" +
    ".m .av{position:absolute;left:7px;top:7px;width:27px;height:27px;border-radius:50%;background:var(--atende-color,#2563eb);color:#fff;font-size:11px;font-weight:700;display:flex;align-items:center;justify-content:center}" +
    ".m.pending{opacity:.75;margin-bottom:4px}.m.pending small{display:block;font-size:11px;color:#92400e;margin-top:3px}" +
    ".typing{padding:2px 12px 6px;font-size:12px;color:#64748b;font-style:italic;background:#f1f5f9}" +
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e2e8f0}form.pre,form.off{flex-direction:column}form.off p{margin:0;font-size:13px;color:#334155}" +
    "input,textarea{flex:1;border:1px solid #cbd5e1;border-radius:8px;padding:8px;font-size:14px}textarea{resize:none;height:40px}form.off textarea{height:70px;flex:none}" +
    "button.send{border:0;background:var(--atende-color,#2563eb);color:#fff;border-radius:8px;padding:0 14px;cursor:pointer;font-size:14px}form.pre button.send,form.off button.send{padding:9px}" +
    "button.attach{border:1px solid #cbd5e1;background:#fff;border-radius:8px;padding:0 10px;cursor:pointer;font-size:16px}" +
    ".m img,.m video{display:block;max-width:100%;max-height:200px;border-radius:6px;margin-top:4px}.m audio{display:block;max-width:100%;margin-top:4px}.m a{display:block;color:#1d4ed8;margin-top:4px}" +
    "</style>" +
    "<button class='bubble' type='button'>💬<span class='badge' hidden></span></button>" +
    "<div class='panel' hidden><div class='head'><span class='title'></span><small class='greet' hidden></small></div>" +
    "<div class='notice' hidden></div><div class='err' role='alert' hidden></div><div class='msgs'></div><div class='outbox'></div>" +
    "<div class='typing' aria-live='polite' hidden></div>" +
    "<form class='chat' hidden><button class='attach' type='button'>📎</button><input class='file' type='file' hidden>" +
    "<textarea maxlength='4000'></textarea><button class='send' type='submit'></button></form>" +
    "<form class='pre' hidden></form><form class='off' hidden></form></div>";
  var $ = function (s) { return root.querySelector(s); };
  var bubble = $(".bubble"), badgeEl = $(".badge"), panel = $(".panel"), msgs = $(".msgs"), outboxEl = $(".outbox");
  var chat = $(".chat"), pre = $(".pre"), off = $(".off"), typingEl = $(".typing");
  var area = chat.querySelector("textarea"), errBox = $(".err"), notice = $(".notice");
  var T = function (k) { return (cfg && cfg.texts && cfg.texts[k]) || k; };
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function showError(text) { errBox.textContent = text || ""; errBox.hidden = !text; }
  function initials(name) {
    var w = String(name || "").trim().split(/\s+/).filter(function (x) { return /[\p{L}\p{N}]/u.test(x); });
    if (!w.length) { return "?"; }
    var a = Array.from(w[0])[0], b = w.length > 1 ? Array.from(w[w.length - 1])[0] : "";
    return (a + b).toUpperCase();
  }

  // ---- messages, banners, unread badge ----
  function add(m) {
    if (m.id <= lastId) { return; }
    lastId = m.id;
    var div = el("div", "m " + m.from);
    if (m.from === "agent") {
      div.appendChild(el("span", "av", initials(m.name)));
      agentSeen = true; lastAgent = m.name;
      hideTyping();
      if (m.id > seen) { unread++; }
    }
    div.appendChild(el("b", "", m.from === "visitor" ? T("widget.you") : m.name));
    if (m.text) { div.appendChild(document.createTextNode(m.text)); }
    (m.files || []).forEach(function (f) {
      var url = api + "/files/" + f.id + "?token=" + enc(token);
      var media;
      if (f.preview === "image") { media = el("img"); media.alt = f.name; }
      else if (f.preview === "audio" || f.preview === "video") { media = el(f.preview); media.controls = true; }
      if (media) { media.src = url; div.appendChild(media); }
      var a = el("a", "", "📎 " + f.name);
      a.href = url; a.target = "_blank"; a.rel = "noopener";
      div.appendChild(a);
    });
    msgs.appendChild(div);
    msgs.scrollTop = msgs.scrollHeight;
  }
  function isOpen() { return status === "queued" || status === "offered" || status === "assigned"; }
  function banners() {
    if (!cfg) { return; }
    var text = "";
    if (status === "finished" || status === "archived") { text = cfg.end_text; }
    else if (status === "assigned" || agentSeen) { text = ""; }
    else if (!cfg.online) { text = token && isOpen() ? T("widget.left") : cfg.offline_text; }
    notice.textContent = text;
    notice.hidden = !text;
  }
  function badge() {
    if (!panel.hidden) {
      unread = 0;
      if (lastId > seen) { seen = lastId; store.set(key + ":seen", String(seen)); }
    }
    badgeEl.textContent = unread > 9 ? "9+" : String(unread);
    badgeEl.hidden = !unread || !panel.hidden;
    bubble.setAttribute("aria-label", T(panel.hidden ? "widget.open" : "widget.close") +
      (unread && panel.hidden ? " (" + unread + " " + T("widget.unread") + ")" : ""));
  }
  var loading = null, again = false;
  function load() {
    if (!token) { return Promise.resolve(); }
    if (loading) { again = true; return loading; }
    loading = fetch(api + "/messages?token=" + enc(token) + "&after=" + lastId).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      if (data.conversation_id && data.conversation_id !== convId) {
        if (convId !== null) { agentSeen = false; }
        convId = data.conversation_id;
        onConv();
      }
      status = data.status || null;
      (data.messages || []).forEach(add);
      banners();
      badge();
    }).catch(function () { /* the next event or retry loads again */ }).then(function () {
      loading = null;
      if (again) { again = false; return load(); }
    });
    return loading;
  }

  // ---- "digitando…" ----
  var typingTimer = null, typingSent = 0;
  function hideTyping() { typingEl.hidden = true; clearTimeout(typingTimer); }
  function showTyping() {
    typingEl.textContent = (lastAgent ? lastAgent + " " : "") + T("widget.typing");
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 6000);
  }
  area.addEventListener("input", function () {
    if (!token || !isOpen() || !area.value.trim()) { return; }
    var now = Date.now();
    if (now - typingSent < 3000) { return; }
    typingSent = now;
    fetch(api + "/typing?token=" + enc(token), { method: "POST" }).catch(function () { /* only a hint */ });
  });

  // ---- the event stream, one per visitor: leader tab or own ----
  var bc = null;
  try { if (window.BroadcastChannel) { bc = new BroadcastChannel(key); } } catch (e) { bc = null; }
  var canShare = !!(bc && navigator.locks && navigator.locks.request && window.AbortController);
  var source = null, streamConv = null, release = null, waiting = null, active = true;
  function relay(t) { if (bc && release) { bc.postMessage({ t: t }); } }
  function closeSource() { if (source) { source.close(); source = null; } }
  function openSource() {
    closeSource();
    if (!token || !window.EventSource || !active) { return; }
    streamConv = convId;
    source = new EventSource(api + "/events?token=" + enc(token));
    source.addEventListener("message", function () { relay("message"); load(); });
    source.addEventListener("typing", function () { relay("typing"); showTyping(); });
    source.onopen = function () { relay("message"); load(); };
  }
  function owner() { return !!release || (!canShare && !!source); }
  function connect() {
    if (!active || !token) { return; }
    if (!canShare) { if (!source) { openSource(); } return; }
    if (release || waiting) { return; }
    var mine = new AbortController();
    waiting = mine;
    navigator.locks.request(key + ":stream", { signal: mine.signal }, function () {
      if (waiting === mine) { waiting = null; }
      if (!active) { return undefined; }
      openSource();
      return new Promise(function (res) { release = res; });
    }).catch(function () { if (waiting === mine) { waiting = null; } });
  }
  function disconnect() {
    closeSource();
    if (release) { release(); release = null; }
    if (waiting) { waiting.abort(); waiting = null; }
  }
  function onConv() {
    // The stream covers the conversations that existed when it opened.
    if (owner()) {
      if (streamConv !== null && convId !== streamConv) { openSource(); } else { streamConv = convId; }
    } else if (bc) { bc.postMessage({ t: "conv" }); }
  }
  function tokenArrived() {
    var t = store.get(key);
    if (!t || t === token) { return; }
    token = t; render(); connect(); load();
  }
  if (bc) {
    bc.onmessage = function (ev) {
      var d = ev.data || {};
      if (d.t === "message" || d.t === "conv") { load(); }
      else if (d.t === "typing") { showTyping(); }
      else if (d.t === "token") { tokenArrived(); }
    };
  }
  window.addEventListener("storage", function (ev) { if (ev.key === key) { tokenArrived(); } });
  window.addEventListener("pagehide", function () { active = false; disconnect(); });
  window.addEventListener("pageshow", function (ev) {
    if (!ev.persisted) { return; }
    active = true;
    connect();
    load();
  });

  // ---- the outbox: sent in order, retried, never dropped ----
  var outbox = [];
  try { outbox = JSON.parse(session.get(key + ":outbox") || "[]") || []; } catch (e) { outbox = []; }
  var sending = false, retryTimer = null, attempts = 0;
  function saveOutbox() { session.set(key + ":outbox", JSON.stringify(outbox)); }
  function drawOutbox(note) {
    outboxEl.textContent = "";
    outbox.forEach(function (item, i) {
      var div = el("div", "m visitor pending");
      div.appendChild(el("b", "", T("widget.you")));
      div.appendChild(document.createTextNode(item.text));
      div.appendChild(el("small", "state", i === 0 && note ? note : T("widget.sending")));
      outboxEl.appendChild(div);
    });
  }
  function enqueue(text, extra, form) {
    outbox.push({ text: text, extra: extra || {}, form: form || "chat" });
    saveOutbox();
    drawOutbox();
    flush();
  }
  function countdown(secs, textKey) {
    var left = secs;
    var tick = function () {
      if (left <= 0) { retryTimer = null; flush(); return; }
      drawOutbox(T(textKey).replace("{n}", String(left)));
      left--;
      retryTimer = setTimeout(tick, 1000);
    };
    tick();
  }
  function giveBack(item, res) {
    var body = res.body || {};
    showError(body.error || T("widget.network").replace("{n}", "…"));
    if (item.form === "chat" && !area.value) { area.value = item.text; }
    if (res.status === 422 && body.fields && body.fields.length) {
      need = body.fields;
      if (item.form === "chat") { profile = {}; preDone = false; }
      render();
    }
  }
  function flush() {
    if (sending || retryTimer || !outbox.length || !cfg) { return; }
    sending = true;
    var item = outbox[0];
    var body = { token: token, text: item.text, page_url: location.href };
    Object.keys(item.extra).forEach(function (k) { body[k] = item.extra[k]; });
    fetch(api + "/messages", { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          return { status: r.status, ok: r.ok, body: j, retry: r.headers.get("Retry-After") };
        });
      }, function () { return { status: 0 }; })
      .then(function (res) {
        sending = false;
        if (res.ok) {
          outbox.shift(); saveOutbox(); drawOutbox(); showError(""); attempts = 0;
          if (item.form === "off") { off.reset(); }
          if (!token && res.body.token) {
            token = res.body.token;
            store.set(key, token);
            if (bc) { bc.postMessage({ t: "token" }); }
          }
          need = []; profile = {};
          load().then(function () { render(); connect(); });
          flush();
          return;
        }
        if (res.status === 0 || res.status === 429 || res.status === 503) {
          attempts++;
          var after = parseInt(res.retry, 10);
          var secs = after > 0 ? Math.min(after, 300) : Math.min(30, Math.pow(2, attempts));
          countdown(secs, res.status === 0 ? "widget.network" : "widget.retrying");
          return;
        }
        outbox.shift(); saveOutbox(); drawOutbox();
        giveBack(item, res);
        flush();
      });
  }

  // ---- forms: pre-chat gate, offline message, chat ----
  function input(name, type, label, required) {
    var i = el("input");
    i.name = name; i.type = type; i.placeholder = label; i.setAttribute("aria-label", label);
    i.required = required; i.maxLength = name === "email" ? 200 : name === "phone" ? 40 : 100;
    return i;
  }
  var FIELDS = { name: "text", email: "email", phone: "tel" };
  function buildPre(fields) {
    var sig = fields.join(",");
    if (pre.getAttribute("data-fields") === sig) { return; }
    pre.setAttribute("data-fields", sig);
    pre.textContent = "";
    fields.forEach(function (f) { pre.appendChild(input(f, FIELDS[f], T("widget." + f), true)); });
    pre.appendChild(el("button", "send", T("widget.start"))).type = "submit";
  }
  function buildOff() {
    if (off.childNodes.length) { return; }
    var ask = cfg.ask || {};
    off.appendChild(el("p", "", T("widget.offline_form")));
    off.appendChild(input("name", "text", T("widget.name"), true));
    if (ask.email || ask.phone) {
      if (ask.email) { off.appendChild(input("email", "email", T("widget.email"), true)); }
      if (ask.phone) { off.appendChild(input("phone", "tel", T("widget.phone"), true)); }
    } else {
      off.appendChild(input("contact", "text", T("widget.contact"), true));
    }
    var ta = el("textarea");
    ta.name = "text"; ta.maxLength = 4000; ta.required = true; ta.placeholder = T("widget.placeholder");
    ta.setAttribute("aria-label", T("widget.placeholder"));
    off.appendChild(ta);
    off.appendChild(el("button", "send", T("widget.leave"))).type = "submit";
  }
  function render() {
    if (!cfg) { return; }
    $(".title").textContent = cfg.title || T("widget.title");
    var greet = $(".greet");
    greet.textContent = cfg.greeting || "";
    greet.hidden = !cfg.greeting;
    if (/^#[0-9a-fA-F]{6}$/.test(cfg.color || "")) { host.style.setProperty("--atende-color", cfg.color); }
    chat.querySelector("button.send").textContent = T("widget.send");
    chat.querySelector(".attach").setAttribute("aria-label", T("widget.attach"));
    chat.querySelector(".attach").title = T("widget.attach");
    area.placeholder = T("widget.placeholder");
    area.setAttribute("aria-label", T("widget.placeholder"));
    var ask = cfg.ask || {};
    var required = ["name", "email", "phone"].filter(function (f) { return ask[f]; });
    var showOff = !token && !cfg.online;
    var showPre = !showOff && (need.length > 0 || (!token && !preDone && required.length > 0));
    if (showOff) { buildOff(); }
    if (showPre) { buildPre(need.length ? need : required); }
    off.hidden = !showOff;
    pre.hidden = !showPre;
    chat.hidden = showOff || showPre;
    banners();
    badge();
  }
  pre.addEventListener("submit", function (ev) {
    ev.preventDefault();
    Array.prototype.forEach.call(pre.querySelectorAll("input"), function (i) { profile[i.name] = i.value.trim(); });
    preDone = true; need = []; showError("");
    render();
    area.focus();
  });
  off.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var extra = {}, text = "";
    Array.prototype.forEach.call(off.querySelectorAll("input,textarea"), function (i) {
      var v = i.value.trim();
      if (i.name === "text") { text = v; }
      else if (i.name === "contact") { extra[v.indexOf("@") >= 0 ? "email" : "phone"] = v; }
      else { extra[i.name] = v; }
    });
    if (!text) { return; }
    showError("");
    enqueue(text, extra, "off");
  });
  chat.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = area.value.trim();
    if (!text) { return; }
    area.value = "";
    showError("");
    var extra = {};
    Object.keys(profile).forEach(function (k) { extra[k] = profile[k]; });
    enqueue(text, extra, "chat");
  });
  var fileInput = chat.querySelector(".file");
  chat.querySelector(".attach").addEventListener("click", function () {
    if (!token) { showError(T("widget.file")); return; }
    fileInput.click();
  });
  fileInput.addEventListener("change", function () {
    var f = fileInput.files[0];
    fileInput.value = "";
    if (!f) { return; }
    fetch(api + "/files?token=" + enc(token) + "&name=" + enc(f.name),
          { method: "POST", headers: { "Content-Type": f.type || "application/octet-stream" }, body: f })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.body.error); return; }
        showError("");
        load();
      }).catch(function () { showError(T("widget.network").replace("{n}", "…")); });
  });
  area.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); chat.requestSubmit(); }
  });
  bubble.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    badge();
    if (!panel.hidden && !chat.hidden) { area.focus(); }
  });

  // ---- start: the queue's configuration (retried while the server is away) ----
  var cfgAttempts = 0;
  function start() {
    fetch(api + "/config").then(function (r) {
      return r.json().then(function (j) { return { status: r.status, ok: r.ok, body: j }; });
    }).then(function (res) {
      if (res.ok) {
        cfg = res.body;
        render();
        drawOutbox();
        if (token) { load().then(connect); }
        flush();
      } else if (res.status === 403) {
        // A site not in the queue's allowed list: say so, never an empty panel.
        $(".title").textContent = "Chat";
        showError(res.body.error + (res.body.origin ? " (" + res.body.origin + ")" : ""));
      } else {
        host.remove();
      }
    }).catch(function () {
      cfgAttempts++;
      setTimeout(start, Math.min(60, Math.pow(2, cfgAttempts)) * 1000);
    });
  }
  bubble.setAttribute("aria-label", "Chat");
  start();
})();
