/* The dashboard's only script: copy buttons for embed codes. Everything else works without it. */
(function () {
  "use strict";
  function copied(button, text) {
    var note = button.nextElementSibling;
    if (note) note.textContent = text;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value;
    function fallback() {
      source.focus();
      source.select();
      try {
        copied(button, document.execCommand("copy") ? "Copied." : "Select the code and copy it.");
      } catch (error) {
        copied(button, "Select the code and copy it.");
      }
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { copied(button, "Copied."); }, fallback);
    } else {
      fallback();
    }
  });
})();
