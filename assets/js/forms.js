// Forms that do what they show. Included only by the pages whose forms use it.
//
// The task form's due control: a quick pick ("Em 1 hora", "Amanhã às 9:00",
// "Próxima semana") fills the visible date and time inputs with the values the
// server computed in the business time zone; it submits nothing of its own,
// so what the inputs show is what is saved.
(function () {
  "use strict";
  if (window.atendeForms) {
    window.atendeForms.init(document);
    return;
  }

  function fill(box, button) {
    var date = document.getElementById(box.getAttribute("data-date-input"));
    var time = document.getElementById(box.getAttribute("data-time-input"));
    if (!date || !time) return;
    date.value = button.getAttribute("data-date");
    time.value = button.getAttribute("data-time");
    [date, time].forEach(function (el) {
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    });
    box.querySelectorAll("button[data-pick]").forEach(function (b) {
      b.setAttribute("aria-pressed", b === button ? "true" : "false");
    });
  }

  function clearPressed(box) {
    box.querySelectorAll("button[data-pick]").forEach(function (b) {
      b.setAttribute("aria-pressed", "false");
    });
  }

  function init(root) {
    var boxes = root.querySelectorAll ? root.querySelectorAll("[data-quick-picks]") : [];
    boxes.forEach(function (box) {
      if (box.getAttribute("data-ready") === "1") return;
      box.setAttribute("data-ready", "1");
      box.hidden = false;
      box.addEventListener("click", function (e) {
        var b = e.target.closest("button[data-pick]");
        if (b) fill(box, b);
      });
      // Typing over a pick's values makes it no longer the chosen pick.
      [box.getAttribute("data-date-input"), box.getAttribute("data-time-input")].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) el.addEventListener("keydown", function () { clearPressed(box); });
      });
    });
  }

  window.atendeForms = { init: init };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // Forms swapped in by htmx.
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
