// Atende: small progressive enhancements. Every page works without this file;
// with it, the desk updates live.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  document.addEventListener("click", function (ev) {
    var toggle = ev.target.closest && ev.target.closest(".menu-toggle");
    if (toggle) {
      document.body.classList.toggle("menu-open");
    }
  });
  // Forms with data-confirm ask before submitting (deactivate, finish, archive…).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // Buttons with data-dialog open that <dialog> instead of submitting (the
  // form still works without this script: the server asks on its own page).
  document.addEventListener("click", function (ev) {
    var opener = ev.target.closest && ev.target.closest("[data-dialog]");
    if (opener) {
      var dlg = document.getElementById(opener.getAttribute("data-dialog"));
      if (dlg && dlg.showModal) { ev.preventDefault(); dlg.showModal(); }
      return;
    }
    var closer = ev.target.closest && ev.target.closest("[data-close-dialog]");
    if (closer && closer.closest("dialog")) { closer.closest("dialog").close(); }
  });
  // htmx requests carry the session's CSRF token in a header.
  document.addEventListener("htmx:configRequest", function (ev) {
    if (csrf()) {
      ev.detail.headers["X-CSRF-Token"] = csrf();
    }
  });

  // Waiting times tick every second.
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function fmt(s) {
    s = Math.max(0, s);
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(r) : pad(Math.floor(s / 60)) + ":" + pad(r);
  }
  var skew = 0;
  setInterval(function () {
    var now = Math.floor(Date.now() / 1000) + skew;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = fmt(now - parseInt(el.getAttribute("data-since"), 10));
    });
  }, 1000);

  var workspace = document.getElementById("workspace");
  var lists = document.getElementById("desk-lists");
  var messages = document.getElementById("messages");
  var bar = document.getElementById("bar");
  if (!lists && !messages && !bar) {
    return;
  }
  var baseTitle = document.title;
  var lastOffers = -1;
  var unreadCount = 0;

  function setTitle(unread) {
    unreadCount = unread;
    document.title = unread > 0 ? "(" + unread + ") " + baseTitle : baseTitle;
  }
  function alertUser(text) {
    if (!document.hidden) { return; }
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var o = ctx.createOscillator();
      o.frequency.value = 880;
      o.connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.15);
    } catch (e) { /* no sound available */ }
    if (window.Notification && Notification.permission === "granted") {
      new Notification("Atende", { body: text });
    }
  }
  if (window.Notification && Notification.permission === "default") {
    document.addEventListener("click", function ask() {
      Notification.requestPermission();
      document.removeEventListener("click", ask);
    });
  }
  function openId() {
    return workspace ? workspace.getAttribute("data-open") : (messages ? messages.getAttribute("data-conversation") : null);
  }
  function markActive() {
    if (!workspace) { return; }
    var id = openId();
    Array.prototype.forEach.call(workspace.querySelectorAll(".conv-row"), function (li) {
      li.classList.toggle("active", li.getAttribute("data-conv") === id);
    });
  }

  var listTimer = null;
  function refreshLists(fromLive) {
    if (!lists) { return; }
    clearTimeout(listTimer);
    listTimer = setTimeout(function () {
      var f = lists.getAttribute("data-filter") || "";
      fetch("/atendimentos/listas" + (f ? "?" + f : ""), { credentials: "same-origin" }).then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        lists.innerHTML = html;
        markActive();
        var box = document.getElementById("lists");
        var offers = box ? parseInt(box.getAttribute("data-offers"), 10) : 0;
        setTitle(box ? parseInt(box.getAttribute("data-unread"), 10) : 0);
        if (fromLive && offers > lastOffers && lastOffers >= 0) { alertUser(box.querySelector(".offer p") ? box.querySelector(".offer p").textContent : ""); }
        lastOffers = offers;
      });
    }, 80);
  }
  var fetching = false, again = false;
  function refreshMessages(fromLive) {
    if (!messages) { return; }
    if (fetching) { again = true; return; }
    fetching = true;
    var box = messages;
    var id = box.getAttribute("data-conversation");
    var after = box.getAttribute("data-last") || "0";
    fetch("/atendimentos/" + id + "/mensagens?after=" + after, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (html && box === messages) {
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var added = 0;
        Array.prototype.forEach.call(tmp.querySelectorAll("[data-id]"), function (el) {
          var mid = parseInt(el.getAttribute("data-id"), 10);
          if (mid > parseInt(box.getAttribute("data-last") || "0", 10)) {
            box.appendChild(el);
            box.setAttribute("data-last", mid);
            added++;
            if (fromLive && el.classList.contains("msg-in")) { alertUser(el.textContent); }
          }
        });
        if (added) { box.scrollTop = box.scrollHeight; }
      }
    }).finally(function () {
      fetching = false;
      if (again) { again = false; refreshMessages(fromLive); }
    });
  }

  // ---- switching conversations without a reload ----------------------------
  // The centre and right panes come from /atendimentos/{id}?painel=1 and are
  // swapped in; the address bar follows, and back/forward work.
  function showPane(name) {
    if (workspace) { workspace.setAttribute("data-pane", name); }
  }
  function swapIn(html, id, push) {
    var tmp = document.createElement("div");
    tmp.innerHTML = html;
    var swap = tmp.querySelector("#swap");
    if (!swap) { return false; }
    document.getElementById("ws-main").replaceChildren.apply(document.getElementById("ws-main"),
      Array.prototype.slice.call(swap.querySelector("#swap-main").childNodes));
    document.getElementById("ws-side").replaceChildren.apply(document.getElementById("ws-side"),
      Array.prototype.slice.call(swap.querySelector("#swap-side").childNodes));
    workspace.setAttribute("data-open", id);
    baseTitle = swap.getAttribute("data-title") + " · Atende";
    setTitle(unreadCount);
    if (push) { history.pushState({ conv: id }, "", "/atendimentos/" + id); }
    bindConversation();
    markActive();
    showPane("conv");
    return true;
  }
  function openConversation(id, push) {
    return fetch("/atendimentos/" + id + "?painel=1", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401 || r.redirected) { window.location.href = "/atendimentos/" + id; return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || !swapIn(html, id, push)) { window.location.href = "/atendimentos/" + id; }
    });
  }
  // Re-reads the open conversation's panes, keeping what is being typed.
  function refreshPanes() {
    var id = openId();
    if (!workspace || !id) { return; }
    var area = document.getElementById("f-text");
    var typed = area ? area.value : "";
    var dlg = document.querySelector("#ws-main dialog[open]");
    if (dlg) { return; }
    fetch("/atendimentos/" + id + "?painel=1", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null || openId() !== id) { return; }
      swapIn(html, id, false);
      var again = document.getElementById("f-text");
      if (again && typed) { again.value = typed; }
    });
  }
  if (workspace) {
    history.replaceState({ conv: openId() }, "", window.location.href);
    document.addEventListener("click", function (ev) {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) { return; }
      var link = ev.target.closest && ev.target.closest("a.conv-link[data-conv]");
      if (link && workspace.contains(link)) {
        ev.preventDefault();
        openConversation(link.getAttribute("data-conv"), true);
        return;
      }
      if (ev.target.closest && ev.target.closest("a.ws-back")) {
        ev.preventDefault();
        history.pushState({ conv: null }, "", "/atendimentos");
        showPane("list");
        return;
      }
      if (ev.target.closest && ev.target.closest("#panel-toggle, #panel-close")) {
        if (window.matchMedia("(max-width: 760px)").matches) {
          showPane(workspace.getAttribute("data-pane") === "contact" ? "conv" : "contact");
        } else {
          var closed = workspace.classList.toggle("side-closed");
          try { localStorage.setItem("atende.side", closed ? "closed" : "open"); } catch (e) { /* private mode */ }
        }
      }
    });
    window.addEventListener("popstate", function (ev) {
      var m = /^\/atendimentos\/(\d+)$/.exec(window.location.pathname);
      if (m) { openConversation(m[1], false); } else { showPane("list"); }
    });
    try { if (localStorage.getItem("atende.side") === "closed") { workspace.classList.add("side-closed"); } } catch (e) { /* private mode */ }
    // Task buttons and + Anotação in the contact pane work in place.
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (ev.defaultPrevented || !form.closest || !form.closest("#panel-tasks, #panel-timeline")) { return; }
      ev.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      body.set("_fetch", "1");
      fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                           headers: { "X-CSRF-Token": csrf() } }).then(function (r) {
        if (r.ok) { refreshPanes(); return; }
        r.text().then(function (t) { form.insertAdjacentHTML("afterbegin", t); });
      });
    });
  }

  // ---- the open conversation: composer, dialogs ----------------------------
  var transferTimer = null;
  // The WhatsApp window counts down from the server's clock at render
  // (data-now) plus the time this page has been open; at zero the panes
  // reload and the server shows the window closed.
  var windowTimer = null;
  function bindWindow() {
    clearInterval(windowTimer);
    var el = document.getElementById("wa-window");
    if (!el || !el.getAttribute("data-until")) { return; }
    var left = parseInt(el.getAttribute("data-until"), 10) - parseInt(el.getAttribute("data-now"), 10);
    var shown = Date.now();
    function tick() {
      var s = left - Math.floor((Date.now() - shown) / 1000);
      var span = el.querySelector(".left");
      if (s <= 0) { clearInterval(windowTimer); refreshPanes(); return; }
      var m = Math.floor(s / 60), h = Math.floor(m / 60);
      if (span) { span.textContent = h > 0 ? h + " h " + (m % 60) + " min" : (m > 0 ? m + " min" : "< 1 min"); }
    }
    windowTimer = setInterval(tick, 15000);
  }
  // Delivery ticks of the open conversation, refreshed when a status arrives.
  function refreshTicks() {
    if (!messages) { return; }
    var box = messages;
    fetch("/atendimentos/" + box.getAttribute("data-conversation") + "/entregas", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (!html || box !== messages) { return; }
      var tmp = document.createElement("div");
      tmp.innerHTML = html;
      Array.prototype.forEach.call(tmp.querySelectorAll(".tick[data-for]"), function (t) {
        var msg = box.querySelector('[data-id="' + t.getAttribute("data-for") + '"]');
        if (!msg) { return; }
        var old = msg.querySelector(".tick");
        if (old) { old.replaceWith(t); } else { msg.appendChild(t); }
      });
    });
  }
  function bindConversation() {
    messages = document.getElementById("messages");
    fetching = false; again = false;
    if (messages) { messages.scrollTop = messages.scrollHeight; }
    bindComposer();
    bindWindow();
    // While the transfer dialog is open its agent list follows who is
    // available (Pronto, paused, full) without a reload.
    clearInterval(transferTimer);
    var dlg = document.getElementById("transfer-dialog");
    if (dlg) {
      transferTimer = setInterval(function () {
        if (!document.body.contains(dlg)) { clearInterval(transferTimer); return; }
        if (!dlg.open) { return; }
        fetch(dlg.getAttribute("data-options") + "?parte=1", { credentials: "same-origin" }).then(function (r) {
          return r.ok ? r.text() : null;
        }).then(function (html) {
          var box = document.getElementById("transfer-options");
          if (html === null || !box) { return; }
          var picked = box.querySelector("#f-agent") ? box.querySelector("#f-agent").value : "";
          box.innerHTML = html;
          var sel = box.querySelector("#f-agent");
          var opt = sel && picked ? sel.querySelector("option[value='" + picked + "']") : null;
          if (opt && !opt.disabled) { sel.value = picked; }
        });
      }, 1500);
    }
  }

  // The composer: Enter sends, Shift+Enter breaks the line; sent without reload.
  // "/" opens the quick replies filtered by shortcut (arrows + Enter insert).
  function chars(s, n) { return Array.from(s).slice(0, n).join(""); }
  function bindComposer() {
    var composer = document.getElementById("composer");
    if (!composer) { return; }
    var area = composer.querySelector("textarea");
    var popup = document.getElementById("qr-popup");
    var qrList = document.getElementById("qr-list");
    var picked = 0;
    function replies() {
      return qrList ? Array.prototype.slice.call(qrList.querySelectorAll("button.qr")) : [];
    }
    function insertText(text, replaceAll) {
      if (replaceAll) {
        area.value = text;
      } else {
        var a = area.selectionStart || 0, b = area.selectionEnd || 0;
        area.value = area.value.slice(0, a) + text + area.value.slice(b);
        area.selectionStart = area.selectionEnd = a + text.length;
      }
      area.focus();
    }
    function matches() {
      var m = /^\/(\S*)$/.exec(area.value);
      if (!m) { return null; }
      var q = m[1].toLowerCase();
      return replies().filter(function (b) { return b.getAttribute("data-shortcut").toLowerCase().indexOf(q) === 0; });
    }
    function closePopup() { popup.hidden = true; popup.innerHTML = ""; }
    function renderPopup() {
      var list = matches();
      if (!list || list.length === 0) { closePopup(); return; }
      picked = Math.min(picked, list.length - 1);
      popup.innerHTML = "";
      list.forEach(function (b, i) {
        var opt = document.createElement("div");
        opt.className = "qr-option" + (i === picked ? " picked" : "");
        opt.setAttribute("role", "option");
        opt.setAttribute("aria-selected", i === picked ? "true" : "false");
        var k = document.createElement("strong");
        k.textContent = "/" + b.getAttribute("data-shortcut");
        var t = document.createElement("span");
        // Cut by characters, not UTF-16 units: an emoji stays whole.
        t.textContent = " " + chars(b.getAttribute("data-body"), 80);
        opt.appendChild(k); opt.appendChild(t);
        opt.addEventListener("mousedown", function (ev) { ev.preventDefault(); insertText(b.getAttribute("data-body"), true); closePopup(); });
        popup.appendChild(opt);
      });
      popup.hidden = false;
    }
    // "digitando…" for the visitor: at most one signal every few seconds,
    // only for a reply (never a note), never stored.
    var typedAt = 0;
    function typing() {
      if (composer.getAttribute("data-typing") !== "1" || !composer.classList.contains("mode-reply")) { return; }
      var now = Date.now();
      if (now - typedAt < 3000 || area.value.trim() === "" || area.value.charAt(0) === "/") { return; }
      typedAt = now;
      fetch(composer.getAttribute("data-typing-url"), { method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf() } }).catch(function () { /* a hint only */ });
    }
    area.addEventListener("input", function () { picked = 0; renderPopup(); typing(); });
    area.addEventListener("keydown", function (ev) {
      if (!popup.hidden) {
        var list = matches() || [];
        if (ev.key === "ArrowDown") { ev.preventDefault(); picked = (picked + 1) % list.length; renderPopup(); return; }
        if (ev.key === "ArrowUp") { ev.preventDefault(); picked = (picked + list.length - 1) % list.length; renderPopup(); return; }
        if (ev.key === "Escape") { ev.preventDefault(); closePopup(); return; }
        if ((ev.key === "Enter" || ev.key === "Tab") && list[picked]) {
          ev.preventDefault();
          insertText(list[picked].getAttribute("data-body"), true);
          closePopup();
          return;
        }
      }
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener("click", function (ev) {
      var e = ev.target.closest("button.emoji");
      if (e) { insertText(e.getAttribute("data-emoji"), false); e.closest("details").open = false; return; }
      var q = ev.target.closest("button.qr");
      if (q) { insertText(q.getAttribute("data-body"), false); q.closest("details").open = false; }
    });
    // Reply or internal note: the look, the hint and the attachment form follow.
    var attachMode = document.querySelector("#attach-form input[name=mode]");
    composer.addEventListener("change", function (ev) {
      if (ev.target.name !== "mode") { return; }
      var note = ev.target.value === "note";
      composer.classList.toggle("mode-note", note);
      composer.classList.toggle("mode-reply", !note);
      if (attachMode) { attachMode.value = ev.target.value; }
    });
    // "+": save what is typed as one of my quick replies.
    var save = document.getElementById("qr-save");
    if (save) {
      save.addEventListener("click", function () {
        var text = area.value.trim();
        if (!text) { area.focus(); return; }
        var name = window.prompt(save.getAttribute("data-ask"), "");
        if (!name) { return; }
        var body = new URLSearchParams({ shortcut: name, body: text, conversa: composer.getAttribute("data-conversation") });
        fetch("/respostas", { method: "POST", body: body, credentials: "same-origin",
                              headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "fetch" } }).then(function (r) {
          return r.text().then(function (t) { return { ok: r.ok, text: t }; });
        }).then(function (res) {
          if (res.ok && qrList) {
            qrList.insertAdjacentHTML("beforeend", res.text);
            var empty = document.getElementById("qr-empty");
            if (empty) { empty.remove(); }
          } else {
            composer.insertAdjacentHTML("afterbegin", res.text);
          }
        });
      });
    }
    // Files go up without leaving the page.
    var attach = document.getElementById("attach-form");
    if (attach) {
      attach.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var old = attach.querySelector(".flash");
        if (old) { old.remove(); }
        fetch(attach.action, { method: "POST", body: new FormData(attach), credentials: "same-origin",
                               headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "fetch" } }).then(function (r) {
          if (r.ok) {
            attach.reset();
            if (attachMode) { attachMode.value = composer.classList.contains("mode-note") ? "note" : "reply"; }
            attach.closest("details").open = false;
            refreshMessages(false);
          } else {
            r.text().then(function (t) { attach.insertAdjacentHTML("afterbegin", t); });
          }
        });
      });
    }
    composer.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!area.value.trim()) { return; }
      var body = new URLSearchParams(new FormData(composer));
      fetch(composer.action, { method: "POST", body: body, credentials: "same-origin", redirect: "manual",
                               headers: { "X-CSRF-Token": csrf() } }).then(function (r) {
        if (r.type === "opaqueredirect" || r.ok) {
          area.value = "";
          // Copies typed for this e-mail are kept on the conversation (or
          // were blind): the next reply starts without them.
          composer.querySelectorAll("#f-cc, #f-bcc").forEach(function (el) { el.value = ""; });
          refreshMessages(false);
        } else {
          r.text().then(function (t) { composer.insertAdjacentHTML("afterbegin", t); });
        }
      });
    });
  }

  if (lists) {
    var first = document.getElementById("lists");
    lastOffers = first ? parseInt(first.getAttribute("data-offers"), 10) : 0;
    setTitle(first ? parseInt(first.getAttribute("data-unread"), 10) : 0);
    markActive();
  }
  bindConversation();

  // The top bar: presence/pause, overdue tasks, notifications. New
  // notifications (newer than what the page showed when it loaded) pop up
  // once as toasts, and as browser notifications when asked for.
  var lastNotif = bar && bar.firstElementChild ? parseInt(bar.firstElementChild.getAttribute("data-last") || "0", 10) : 0;
  function toast(text, link) {
    var box = document.getElementById("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    var el = document.createElement(link ? "a" : "div");
    el.className = "toast";
    el.setAttribute("role", "status");
    el.textContent = text;
    if (link) { el.href = link; }
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 15000);
  }
  var barTimer = null;
  function refreshBar() {
    if (!bar) { return; }
    clearTimeout(barTimer);
    barTimer = setTimeout(function () {
      fetch("/barra", { credentials: "same-origin" }).then(function (r) {
        return r.ok && !r.redirected ? r.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        var open = bar.querySelector("details[open]");
        bar.innerHTML = html;
        bar.setAttribute("data-refreshed", String(Date.now()));
        if (open && bar.querySelector("details")) { bar.querySelector("details").open = true; }
        var b = bar.firstElementChild;
        var overdue = b ? parseInt(b.getAttribute("data-overdue") || "0", 10) : 0;
        var badge = document.getElementById("overdue-count");
        if (badge) { badge.textContent = overdue; badge.hidden = overdue === 0; }
        var fresh = Array.prototype.slice.call(bar.querySelectorAll(".notif")).reverse();
        fresh.forEach(function (n) {
          var id = parseInt(n.getAttribute("data-id"), 10);
          if (id <= lastNotif) { return; }
          lastNotif = id;
          toast(n.textContent, n.getAttribute("data-link"));
          if (n.getAttribute("data-browser") === "1" && window.Notification && Notification.permission === "granted") {
            new Notification("Atende", { body: n.textContent });
          }
        });
      });
    }, 50);
  }

  // ---- the live stream, one per browser -------------------------------------
  // Browsers allow six connections per host over plain HTTP, so tabs share
  // one stream: the tab holding the Web Lock opens it and passes each event
  // to the others over a BroadcastChannel; when it closes, another tab takes
  // the lock and the stream over (catching up from the last event id).
  function setLive(up) {
    var status = document.getElementById("live-status");
    if (status) { status.hidden = up; }
  }
  function onOpen() {
    setLive(true);
    document.dispatchEvent(new CustomEvent("atende:live", { detail: { type: "open", data: "" } }));
    // Whatever happened while disconnected is caught up by the stream itself;
    // refreshing once more costs little and covers a server restart.
    refreshLists(false);
    refreshMessages(false);
    refreshBar();
  }
  // The visitor is typing in the open conversation: shown for a few seconds
  // after the last signal, and hidden as soon as their message arrives.
  var typingTimer = null;
  function visitorTyping(show) {
    var el = document.getElementById("typing");
    if (!el) { return; }
    clearTimeout(typingTimer);
    el.hidden = !show;
    if (show) { typingTimer = setTimeout(function () { el.hidden = true; }, 6000); }
  }
  function onEvent(type, raw) {
    // Other parts of the page (the supervision panels) follow the same stream.
    document.dispatchEvent(new CustomEvent("atende:live", { detail: { type: type, data: raw } }));
    if (type === "visitor_typing") {
      var d = {};
      try { d = JSON.parse(raw); } catch (e) { return; }
      var conv = messages ? messages.getAttribute("data-conversation") : null;
      if (conv && String(d.conversation_id) === conv) { visitorTyping(true); }
      return;
    }
    if (type === "message" && messages) {
      var dm = {};
      try { dm = JSON.parse(raw); } catch (e) { /* keep-alive */ }
      if (String(dm.conversation_id) === messages.getAttribute("data-conversation")) { visitorTyping(false); }
    }
    if (type === "delivery") {
      var dd = {};
      try { dd = JSON.parse(raw); } catch (e) { return; }
      if (messages && String(dd.conversation_id) === messages.getAttribute("data-conversation")) { refreshTicks(); }
      return;
    }
    if (["notification", "presence", "tasks", "reload"].indexOf(type) >= 0) { refreshBar(); }
    if (["queue", "message", "offer", "conversation", "reload"].indexOf(type) < 0) { return; }
    var data = {};
    try { data = JSON.parse(raw); } catch (e) { /* keep-alive or reload */ }
    refreshLists(true);
    var open = messages ? messages.getAttribute("data-conversation") : null;
    if (messages && (type === "reload" || String(data.conversation_id) === open)) {
      refreshMessages(true);
      if (type === "conversation" || type === "reload") { refreshPanes(); }
    }
  }
  var KINDS = ["queue", "message", "offer", "conversation", "reload", "notification", "presence", "tasks", "visitor_typing", "delivery", "supervision"];
  function openStream(share) {
    var source = new EventSource("/eventos");
    source.onopen = function () { onOpen(); if (share) { share({ t: "open" }); } };
    source.onerror = function () { setLive(false); if (share) { share({ t: "down" }); } };
    KINDS.forEach(function (k) {
      source.addEventListener(k, function (ev) { onEvent(k, ev.data); if (share) { share({ t: "event", k: k, d: ev.data }); } });
    });
    return source;
  }
  if (window.BroadcastChannel && navigator.locks && navigator.locks.request) {
    var channel = new BroadcastChannel("atende-live");
    var leading = false;
    channel.onmessage = function (m) {
      var msg = m.data || {};
      if (leading) { return; }
      if (msg.t === "open") { onOpen(); }
      else if (msg.t === "down") { setLive(false); }
      else if (msg.t === "event") { onEvent(msg.k, msg.d); }
      else if (msg.t === "hello") { /* only the leader answers */ }
    };
    navigator.locks.request("atende-live-leader", function () {
      leading = true;
      var source = openStream(function (msg) { channel.postMessage(msg); });
      window.addEventListener("pagehide", function () { source.close(); });
      // Held until this tab goes away.
      return new Promise(function () {});
    });
    // A follower asks whether a leader is up; it answers with "open".
    channel.postMessage({ t: "hello" });
    channel.addEventListener("message", function (m) {
      if (leading && m.data && m.data.t === "hello") { channel.postMessage({ t: "open" }); }
    });
  } else {
    var solo = openStream(null);
    window.addEventListener("pagehide", function () { solo.close(); });
    window.addEventListener("pageshow", function (ev) { if (ev.persisted) { solo = openStream(null); } });
  }
})();

// ---- Acompanhamento ----------------------------------------------------------
// The supervision panels reload their fragment when the live stream says
// something they show changed (debounced), and every 15 s in any case; the
// durations tick every second from the server's clock (data-now), so a
// browser clock that is off does not matter.
(function () {
  "use strict";
  var root = document.getElementById("sup") || document.getElementById("sup-conversation");
  if (!root) { return; }
  var offset = 0;
  function sync(el) {
    var now = el && parseInt(el.getAttribute("data-now"), 10);
    if (now) { offset = now - Math.floor(Date.now() / 1000); }
  }
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function fmt(s) {
    s = Math.max(0, s);
    if (s < 3600) { return pad(Math.floor(s / 60)) + ":" + pad(s % 60); }
    return Math.floor(s / 3600) + " h " + pad(Math.floor((s % 3600) / 60)) + " min";
  }
  function tick() {
    var now = Math.floor(Date.now() / 1000) + offset;
    root.querySelectorAll("[data-sup-since]").forEach(function (el) {
      el.textContent = fmt(now - parseInt(el.getAttribute("data-sup-since"), 10));
    });
    // A pause turns red when its limit passes, before the next reload says so.
    root.querySelectorAll("tr[data-sup-limit]").forEach(function (tr) {
      if (now >= parseInt(tr.getAttribute("data-sup-limit"), 10)) { tr.classList.add("sup-over"); }
    });
    root.querySelectorAll("[data-sup-alert]").forEach(function (td) {
      var alert = parseInt(td.getAttribute("data-sup-alert"), 10);
      var since = td.querySelector("[data-sup-since]");
      if (!alert || !since) { return; }
      var waited = now - parseInt(since.getAttribute("data-sup-since"), 10);
      td.classList.toggle("sup-warn", waited >= alert && waited < 2 * alert);
      td.classList.toggle("sup-over", waited >= 2 * alert);
      td.classList.toggle("sup-calm", waited < alert);
    });
  }
  var panel = root.querySelector(".sup-panel");
  sync(panel || root);
  var timer = null, busy = false, again = false;
  function reload() {
    panel = root.querySelector(".sup-panel");
    if (!panel) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(panel.getAttribute("data-src"), { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      // A form being filled in (a select opened) is not swept away.
      var active = document.activeElement;
      if (active && panel.contains(active) && active.tagName === "SELECT") { setTimeout(schedule, 2000); return; }
      var tmp = document.createElement("div");
      tmp.innerHTML = html;
      var fresh = tmp.querySelector(".sup-panel");
      if (!fresh) { return; }
      panel.replaceWith(fresh);
      panel = fresh;
      sync(fresh);
      tick();
      root.setAttribute("data-refreshed", String(Date.now()));
    }).finally(function () {
      busy = false;
      if (again) { again = false; schedule(); }
    });
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(reload, 150);
  }
  var KINDS = ["open", "reload", "supervision", "presence", "queue", "conversation", "offer", "message"];
  document.addEventListener("atende:live", function (ev) {
    if (KINDS.indexOf(ev.detail && ev.detail.type) >= 0) { schedule(); }
  });
  setInterval(tick, 1000);
  setInterval(schedule, 15000);
})();
