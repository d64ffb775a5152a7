// Atende: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
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
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      ev.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });
})();
