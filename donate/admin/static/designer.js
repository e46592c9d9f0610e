/* The embed designer: as the owner chooses, the three previews and the codes follow. The codes
   come from the server (donate/admin/embed.py), the one place that writes them. */
(function () {
  "use strict";
  var form = document.getElementById("designer");
  if (!form || !window.URLSearchParams || !window.fetch) return;
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe.designer-preview"));
  var status = form.querySelector(".designer-status");
  var heights = { full: 470, bar: 100, button: 130 };
  var asked = 0, timer = null;

  function value(name) {
    var field = form.elements[name];
    return field ? String(field.value || "") : "";
  }

  function look() {
    var query = new URLSearchParams();
    ["variant", "color", "locale"].forEach(function (name) {
      var chosen = value(name);
      if (chosen && !(name === "variant" && chosen === "full")) query.set(name, chosen);
    });
    return query;
  }

  function preview(lookQuery) {
    var query = new URLSearchParams(lookQuery);
    ["cta", "cta_de", "cta_fr", "cta_es", "hide_below", "default_amount"].forEach(function (name) {
      if (form.elements[name]) query.set(name, value(name));
    });
    ["show_donor_count", "show_percent"].forEach(function (name) {
      if (form.elements[name]) query.set(name, form.elements[name].checked ? "1" : "0");
    });
    query.set("origin", location.origin);
    return query;
  }

  function update() {
    var lookQuery = look(), mine = ++asked;
    var src = form.getAttribute("data-preview") + "?" + preview(lookQuery);
    var height = heights[value("variant")] || heights.full;
    frames.forEach(function (frame) {
      frame.style.height = height + "px";
      frame.src = src;
    });
    var suffix = String(lookQuery) ? "?" + lookQuery : "";
    form.action = form.getAttribute("data-save") + suffix;
    fetch(form.getAttribute("data-codes") + suffix, { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (!data || mine !== asked) return;
        data.snippets.forEach(function (snippet) {
          var area = document.getElementById("code-" + snippet.key);
          if (area) area.value = snippet.code;
        });
        if (status) status.textContent = "Preview and codes updated.";
      })
      .catch(function () {
        if (status) status.textContent = "The codes could not be updated; reload the page.";
      });
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);

  // Each preview reports its height (widget.js posts it to this page's origin).
  window.addEventListener("message", function (event) {
    var message = event.data;
    if (event.origin !== location.origin || !message || message.donate !== "size") return;
    frames.forEach(function (frame) {
      if (event.source === frame.contentWindow && typeof message.height === "number") {
        frame.style.height = Math.max(40, Math.min(message.height, 3000)) + "px";
      }
    });
  });
})();
