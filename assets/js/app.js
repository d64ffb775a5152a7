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

  var lists = document.getElementById("desk-lists");
  var messages = document.getElementById("messages");
  var bar = document.getElementById("bar");
  if (!lists && !messages && !bar) {
    return;
  }
  var baseTitle = document.title;
  var lastOffers = -1;

  function setTitle(unread) {
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

  var listTimer = null;
  function refreshLists(fromLive) {
    if (!lists) { return; }
    clearTimeout(listTimer);
    listTimer = setTimeout(function () {
      fetch("/atendimentos/listas", { credentials: "same-origin" }).then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html === null) { return; }
        lists.innerHTML = html;
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
    var id = messages.getAttribute("data-conversation");
    var after = messages.getAttribute("data-last") || "0";
    fetch("/atendimentos/" + id + "/mensagens?after=" + after, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (html) {
      if (html) {
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var added = 0;
        Array.prototype.forEach.call(tmp.querySelectorAll("[data-id]"), function (el) {
          var mid = parseInt(el.getAttribute("data-id"), 10);
          if (mid > parseInt(messages.getAttribute("data-last") || "0", 10)) {
            messages.appendChild(el);
            messages.setAttribute("data-last", mid);
            added++;
            if (fromLive && el.classList.contains("msg-in")) { alertUser(el.textContent); }
          }
        });
        if (added) { messages.scrollTop = messages.scrollHeight; }
      }
    }).finally(function () {
      fetching = false;
      if (again) { again = false; refreshMessages(fromLive); }
    });
  }
  if (lists) {
    var first = document.getElementById("lists");
    lastOffers = first ? parseInt(first.getAttribute("data-offers"), 10) : 0;
    setTitle(first ? parseInt(first.getAttribute("data-unread"), 10) : 0);
  }
  if (messages) { messages.scrollTop = messages.scrollHeight; }

  // The composer: Enter sends, Shift+Enter breaks the line; sent without reload.
  // "/" opens the quick replies filtered by shortcut (arrows + Enter insert).
  var composer = document.getElementById("composer");
  if (composer) {
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
        t.textContent = " " + b.getAttribute("data-body").slice(0, 80);
        opt.appendChild(k); opt.appendChild(t);
        opt.addEventListener("mousedown", function (ev) { ev.preventDefault(); insertText(b.getAttribute("data-body"), true); closePopup(); });
        popup.appendChild(opt);
      });
      popup.hidden = false;
    }
    area.addEventListener("input", function () { picked = 0; renderPopup(); });
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
          refreshMessages(false);
        } else {
          r.text().then(function (t) { composer.insertAdjacentHTML("afterbegin", t); });
        }
      });
    });
  }

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

  var status = document.getElementById("live-status");
  var source = new EventSource("/eventos");
  source.onopen = function () {
    if (status) { status.hidden = true; }
    // Whatever happened while disconnected is caught up by the stream itself;
    // refreshing once more costs little and covers a server restart.
    refreshLists(false);
    refreshMessages(false);
    refreshBar();
  };
  source.onerror = function () {
    if (status) { status.hidden = false; }
  };
  function onEvent(ev) {
    var data = {};
    try { data = JSON.parse(ev.data); } catch (e) { /* keep-alive or reload */ }
    refreshLists(true);
    if (messages && (ev.type === "reload" || String(data.conversation_id) === messages.getAttribute("data-conversation"))) {
      refreshMessages(true);
    }
  }
  ["queue", "message", "offer", "conversation", "reload"].forEach(function (k) {
    source.addEventListener(k, onEvent);
  });
  ["notification", "presence", "tasks", "reload"].forEach(function (k) {
    source.addEventListener(k, refreshBar);
  });
})();
