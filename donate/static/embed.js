/* donate embed loader: <script async src="https://give.example.org/embed.js" data-goal="SLUG"></script>
   Options: data-variant (full, bar, button), data-locale, data-article, data-color, data-label.
   A <div class="donate-widget" data-goal="SLUG"> with a link just before the script is adopted:
   its link stays when this script cannot load. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.goal || !window.URLSearchParams) return;
  var data = script.dataset, base = new URL(script.src).origin;
  var variant = /^(full|bar|button)$/.test(data.variant) ? data.variant : "full";
  var goalUrl = base + "/g/" + encodeURIComponent(data.goal);
  // Back from Checkout for this goal, paid (thank once) or cancelled (back at the form): here
  // only, and never again on reload or share.
  var mark = /^#donate-(thanks|cancel)=([^&]+)(?:&t=([\w.-]+))?$/.exec(location.hash);
  var back = mark && mark[2] === encodeURIComponent(data.goal);
  var thanks = back && mark[1] === "thanks";
  if (back && history.replaceState) {
    history.replaceState(history.state, "", location.pathname + location.search);
  }

  // The fallback first: if anything below fails, the reader still has a way to give.
  var box = script.previousElementSibling, link;
  if (box && box.className === "donate-widget" && box.getAttribute("data-goal") === data.goal &&
      !box.querySelector("iframe")) {
    link = box.querySelector("a");
  } else {
    box = document.createElement("div");
    box.className = "donate-widget";
    script.parentNode.insertBefore(box, script.nextSibling);
  }
  if (!link) {
    link = document.createElement("a");
    link.href = goalUrl;
    link.textContent = data.label || "Give to this fundraiser";
    box.appendChild(link);
  }

  // The frame cannot learn the page's origin and URL by itself, so they travel in its URL.
  var params = new URLSearchParams({
    variant: variant, origin: location.origin, page: location.href.split("#")[0]
  });
  ["locale", "article", "color"].forEach(function (name) {
    if (data[name]) params.set(name, data[name]);
  });
  // The article's language, not the browser's: a German reader of an English page reads English.
  if (!data.locale && document.documentElement.lang) {
    params.set("locale", document.documentElement.lang);
  }
  var frame = document.createElement("iframe");
  var ready = false;
  // The gift's token goes in the fragment, which no request carries: the URL stays cacheable.
  frame.src = base + "/w/" + encodeURIComponent(data.goal) + "?" + params +
    (thanks ? "#donate-thanks=" + (mark[3] || "") : "");
  frame.title = data.label || "Give to this fundraiser";
  frame.loading = back ? "eager" : "lazy";
  frame.style.cssText = "display:block;width:100%;border:0;color-scheme:normal;height:" +
    ({ full: 470, bar: 100, button: 130 })[variant] + "px";

  window.addEventListener("message", function (event) {
    // Only our own frame, from our own origin, may resize it.
    if (event.origin !== base || event.source !== frame.contentWindow) return;
    var message = event.data;
    if (!message || message.donate !== "size" || typeof message.height !== "number") return;
    frame.style.height = Math.max(40, Math.min(message.height, 3000)) + "px";
    if (!ready) {
      ready = true;
      if (link.parentNode) box.removeChild(link);
    }
  });
  frame.addEventListener("load", function () {
    // A frame that never speaks was refused (CSP, an unknown goal): keep only the link.
    setTimeout(function () {
      if (ready || !frame.parentNode) return;
      box.removeChild(frame);
      // Tell the page's author why, in the console: a mistyped slug or an origin not allowed.
      fetch(base + "/api/v1/goals/" + encodeURIComponent(data.goal)).then(function (answer) {
        console.error(answer.status === 404
          ? "donate: there is no goal \"" + data.goal + "\"; check data-goal."
          : "donate: the goal \"" + data.goal + "\" cannot be shown on " + location.origin +
            "; add this origin to the site's allowed origins.");
      });
    }, 3000);
  });
  box.insertBefore(frame, link);
  if (back && box.scrollIntoView) box.scrollIntoView({ block: "center" });
})();
