// WhatsApp in the desk: the template picker's preview follows what the agent
// types in each parameter, rendered as the server renders the sent message
// (header, body, then footer and buttons, a URL button with its link).
// Delegated from the document, so it works in conversations swapped in
// without a reload.
(function () {
  "use strict";
  function fill(text, part, form) {
    return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, function (all, key) {
      var input = form.querySelector('input[data-part="' + part + '"][data-param="' + key + '"]');
      var v = input ? input.value.trim() : "";
      return v === "" ? all : v;
    });
  }
  function render(form) {
    var box = form.querySelector(".wa-tpl-preview");
    if (!box) return;
    var parts = [];
    var head = box.getAttribute("data-header");
    if (head) parts.push(fill(head, "h", form));
    parts.push(fill(box.getAttribute("data-body") || "", "p", form));
    var rest = box.getAttribute("data-rest");
    if (rest) parts.push(fill(rest, "b", form));
    box.textContent = parts.join("\n\n");
  }
  document.addEventListener("input", function (ev) {
    var t = ev.target;
    if (!t || !t.matches || !t.matches(".wa-tpl input[data-param]")) return;
    var form = t.closest("form");
    if (form) render(form);
  });
})();
