/* Atende web chat widget. Usage on your site:
 *   <script src="http://ATENDE-HOST:PORT/widget.js" data-queue="QUEUE_ID" defer></script>
 * Everything the visitor or an agent writes is shown as text, never as HTML. */
(function () {
  "use strict";
  var me = document.currentScript || document.querySelector("script[data-queue][src*='widget.js']");
  if (!me || window.__atendeWidget) { return; }
  window.__atendeWidget = true;
  var base = new URL(me.src, location.href).origin;
  var queue = me.getAttribute("data-queue");
  var api = base + "/api/widget/" + encodeURIComponent(queue);
  var key = "atende:" + base + ":" + queue;
  var token = localStorage.getItem(key) || "";
  var lastId = 0, cfg = null, source = null, convId = null;

  var host = document.createElement("div");
  host.id = "atende-widget";
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>" +
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:#2563eb;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 24px);height:460px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483000}" +
    ".panel[hidden]{display:none}.head{background:#2563eb;color:#fff;padding:12px 14px;font-weight:600}.head small{display:block;font-weight:400;opacity:.9}" +
    ".notice{background:#fef3c7;color:#92400e;padding:8px 12px;font-size:13px}.err{background:#fee2e2;color:#991b1b;padding:8px 12px;font-size:13px}" +
    ".msgs{flex:1;overflow-y:auto;padding:10px;background:#f1f5f9;display:flex;flex-direction:column;gap:6px}" +
    ".m{max-width:80%;padding:7px 10px;border-radius:10px;font-size:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff}" +
    ".m.visitor{align-self:flex-end;background:#dbeafe}.m.agent{align-self:flex-start}.m b{display:block;font-size:11px;color:#64748b;margin-bottom:2px}" +
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #e2e8f0}form.pre{flex-direction:column}" +
    "input,textarea{flex:1;border:1px solid #cbd5e1;border-radius:8px;padding:8px;font-size:14px}textarea{resize:none;height:40px}" +
    "button.send{border:0;background:#2563eb;color:#fff;border-radius:8px;padding:0 14px;cursor:pointer;font-size:14px}form.pre button.send{padding:9px}" +
    "button.attach{border:1px solid #cbd5e1;background:#fff;border-radius:8px;padding:0 10px;cursor:pointer;font-size:16px}" +
    ".m img,.m video{display:block;max-width:100%;max-height:200px;border-radius:6px;margin-top:4px}.m audio{display:block;max-width:100%;margin-top:4px}.m a{display:block;color:#1d4ed8;margin-top:4px}" +
    "</style>" +
    "<button class='bubble' type='button'>💬</button>" +
    "<div class='panel' hidden><div class='head'><span class='title'></span><small class='queue'></small></div>" +
    "<div class='notice' hidden></div><div class='err' hidden></div><div class='msgs'></div>" +
    "<form class='pre' hidden></form><form class='chat'><button class='attach' type='button'>📎</button><input class='file' type='file' hidden>" +
    "<textarea maxlength='4000'></textarea><button class='send' type='submit'></button></form></div>";
  var $ = function (s) { return root.querySelector(s); };
  var bubble = $(".bubble"), panel = $(".panel"), msgs = $(".msgs"), chat = $(".chat"), pre = $(".pre");
  var area = chat.querySelector("textarea"), errBox = $(".err"), notice = $(".notice");
  var T = function (k) { return (cfg && cfg.texts && cfg.texts[k]) || k; };

  function showError(text) { errBox.textContent = text || ""; errBox.hidden = !text; }
  function add(m) {
    if (m.id <= lastId) { return; }
    lastId = m.id;
    var div = document.createElement("div");
    div.className = "m " + m.from;
    var who = document.createElement("b");
    who.textContent = m.from === "visitor" ? T("widget.you") : m.name;
    div.appendChild(who);
    if (m.text) { div.appendChild(document.createTextNode(m.text)); }
    (m.files || []).forEach(function (f) {
      var url = api + "/files/" + f.id + "?token=" + encodeURIComponent(token);
      var el;
      if (f.preview === "image") { el = document.createElement("img"); el.alt = f.name; }
      else if (f.preview === "audio" || f.preview === "video") { el = document.createElement(f.preview); el.controls = true; }
      if (el) { el.src = url; div.appendChild(el); }
      var a = document.createElement("a");
      a.href = url; a.target = "_blank"; a.rel = "noopener"; a.textContent = "📎 " + f.name;
      div.appendChild(a);
    });
    msgs.appendChild(div);
    msgs.scrollTop = msgs.scrollHeight;
  }
  function load() {
    if (!token) { return Promise.resolve(); }
    return fetch(api + "/messages?token=" + encodeURIComponent(token) + "&after=" + lastId).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      (data.messages || []).forEach(add);
      if (data.conversation_id && data.conversation_id !== convId) { convId = data.conversation_id; listen(); }
      notice.hidden = !(data.status === "finished" || data.status === "archived") ? notice.hidden : false;
      if (data.status === "finished" || data.status === "archived") { notice.textContent = cfg.end_text || T("widget.ended"); }
    });
  }
  function listen() {
    if (source) { source.close(); }
    if (!token || !window.EventSource) { return; }
    source = new EventSource(api + "/events?token=" + encodeURIComponent(token));
    source.addEventListener("message", load);
    source.onopen = load;
  }
  function send(text, extra) {
    var body = { token: token, text: text, page_url: location.href };
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return fetch(api + "/messages", { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.body.error); return false; }
        showError("");
        if (!token) { token = res.body.token; localStorage.setItem(key, token); }
        if (res.body.conversation_id !== convId) { convId = res.body.conversation_id; listen(); }
        return load().then(function () { return true; });
      }).catch(function () { showError("…"); return false; });
  }
  var profile = {};
  function render() {
    $(".title").textContent = T("widget.title");
    $(".queue").textContent = cfg.queue;
    chat.querySelector("button.send").textContent = T("widget.send");
    chat.querySelector(".attach").setAttribute("aria-label", T("widget.attach"));
    chat.querySelector(".attach").title = T("widget.attach");
    area.placeholder = T("widget.placeholder");
    if (!cfg.online) { notice.textContent = cfg.offline_text; notice.hidden = false; }
    var ask = cfg.ask || {};
    if (!token && (ask.name || ask.email || ask.phone)) {
      pre.hidden = false; chat.hidden = true;
      [["name", "text"], ["email", "email"], ["phone", "tel"]].forEach(function (f) {
        if (!ask[f[0]]) { return; }
        var i = document.createElement("input");
        i.name = f[0]; i.type = f[1]; i.placeholder = T("widget." + f[0]); i.required = true; i.maxLength = 100;
        pre.appendChild(i);
      });
      var b = document.createElement("button");
      b.className = "send"; b.type = "submit"; b.textContent = T("widget.start");
      pre.appendChild(b);
    }
  }
  pre.addEventListener("submit", function (ev) {
    ev.preventDefault();
    Array.prototype.forEach.call(pre.querySelectorAll("input"), function (i) { profile[i.name] = i.value.trim(); });
    pre.hidden = true; chat.hidden = false; area.focus();
  });
  chat.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = area.value.trim();
    if (!text) { return; }
    send(text, profile).then(function (ok) { if (ok) { area.value = ""; profile = {}; } });
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
    fetch(api + "/files?token=" + encodeURIComponent(token) + "&name=" + encodeURIComponent(f.name),
          { method: "POST", headers: { "Content-Type": f.type || "application/octet-stream" }, body: f })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { showError(res.body.error); return; }
        showError("");
        load();
      }).catch(function () { showError("…"); });
  });
  area.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); chat.requestSubmit(); }
  });
  bubble.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    bubble.setAttribute("aria-label", T(panel.hidden ? "widget.open" : "widget.close"));
    if (!panel.hidden) { area.focus(); }
  });
  fetch(api + "/config").then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); }).then(function (res) {
    if (!res.ok) { host.remove(); return; }
    cfg = res.body;
    bubble.setAttribute("aria-label", T("widget.open"));
    render();
    if (token) { load().then(listen); }
  });
})();
