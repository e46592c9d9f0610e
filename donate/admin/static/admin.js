/* The dashboard's only script: copy buttons, confirmations, slug suggestions and table labels.
   Everything works without it; it only adds convenience and a second look before changes. */
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

(function () {
  "use strict";
  // Phones show each table cell with its column's name: fill any label a template left out.
  function labelCells() {
    document.querySelectorAll("main table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && heads[index]) {
            cell.setAttribute("data-label", heads[index].textContent.trim());
          }
        });
      });
    });
  }

  // A second look before a change that reaches Stripe: the message names the amount.
  function confirmation(form, submitter) {
    if (submitter && submitter.hasAttribute("data-confirm")) {
      return submitter.getAttribute("data-confirm");
    }
    if (!form.hasAttribute("data-confirm-refund")) return null;
    var input = form.querySelector("input[name=amount]");
    var typed = input ? input.value.trim() : "";
    var amount = typed
      ? typed + " " + form.getAttribute("data-currency")
      : form.getAttribute("data-refundable") + " (everything that remains)";
    return "Refund " + amount + " to the donor through Stripe? This cannot be undone.";
  }
  document.addEventListener("submit", function (event) {
    var message = confirmation(event.target, event.submitter);
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // A new goal's address follows its title until someone edits the address by hand.
  function slugOf(title) {
    return title.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+/, "").slice(0, 80).replace(/-+$/, "");
  }
  function suggestSlugs() {
    var form = document.querySelector("form[data-suggest-slug]");
    if (!form) return;
    var title = form.querySelector("input[name=title]");
    var slug = form.querySelector("input[name=slug]");
    if (!title || !slug) return;
    var suggested = slug.value;
    title.addEventListener("input", function () {
      if (slug.value !== suggested) return;
      suggested = slugOf(title.value);
      slug.value = suggested;
    });
  }

  labelCells();
  suggestSlugs();
})();
