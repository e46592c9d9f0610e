/* donate embed loader: <script async src="https://give.example.org/embed.js" data-goal="SLUG"></script>
   Options: data-variant (full, bar, button), data-locale, data-article, data-color, data-label. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.goal || !window.URLSearchParams) return;
  var data = script.dataset, base = new URL(script.src).origin;
  var variant = /^(full|bar|button)$/.test(data.variant) ? data.variant : "full";
  var goalUrl = base + "/g/" + encodeURIComponent(data.goal);
  var thanks = location.hash === "#donate-thanks";

  // The fallback first: if anything below fails, the reader still has a way to give.
  var box = document.createElement("div");
  var link = document.createElement("a");
  box.className = "donate-widget";
  link.href = goalUrl;
  link.textContent = data.label || "Give to this fundraiser";
  box.appendChild(link);
  script.parentNode.insertBefore(box, script.nextSibling);

  // The frame cannot learn the page's origin and URL by itself, so they travel in its URL.
  var params = new URLSearchParams({
    variant: variant, origin: location.origin, page: location.href.split("#")[0]
  });
  ["locale", "article", "color"].forEach(function (name) {
    if (data[name]) params.set(name, data[name]);
  });
  if (thanks) {
    // Back from Checkout: show the thanks, and fetch past every cache so the bar has moved.
    params.set("thanks", "1");
    params.set("fresh", Date.now());
  }
  var frame = document.createElement("iframe");
  var ready = false;
  frame.src = base + "/w/" + encodeURIComponent(data.goal) + "?" + params;
  frame.title = data.label || "Give to this fundraiser";
  frame.loading = thanks ? "eager" : "lazy";
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
      if (!ready && frame.parentNode) box.removeChild(frame);
    }, 3000);
  });
  box.insertBefore(frame, link);
  if (thanks && box.scrollIntoView) box.scrollIntoView({ block: "center" });
})();
