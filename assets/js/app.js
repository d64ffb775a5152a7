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
  var composer = document.getElementById("composer");
  if (composer) {
    var area = composer.querySelector("textarea");
    area.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        composer.requestSubmit();
      }
    });
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
