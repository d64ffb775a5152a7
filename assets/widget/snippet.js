/* Admin queue page: the "copy" button of the web chat snippet. Works on plain
 * HTTP too (no Clipboard API there): falls back to selecting the text. */
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button[data-copy]");
    if (!b) { return; }
    var src = document.querySelector(b.getAttribute("data-copy"));
    if (!src) { return; }
    var text = src.textContent;
    var status = b.parentNode.querySelector(".copy-status");
    function done() { if (status) { status.textContent = b.getAttribute("data-copied") || ""; } }
    function fallback() {
      var ta = document.createElement("textarea");
      ta.value = text; ta.setAttribute("readonly", ""); ta.style.position = "fixed"; ta.style.opacity = "0";
      document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* selection stays for Ctrl+C */ }
      ta.remove();
      var r = document.createRange(); r.selectNodeContents(src);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else { fallback(); }
  });
})();
