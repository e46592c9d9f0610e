(function () {
  "use strict";
  // Runs inside our frame (or on the goal page). The loader put the article's origin and URL in
  // our query string: we cannot learn them otherwise.
  var doc = document, root = doc.documentElement, query = new URLSearchParams(location.search);
  var parentOrigin = query.get("origin") || "", page = query.get("page") || "";
  var allowed = (root.getAttribute("data-origins") || "").split(" ").filter(Boolean);

  function isAllowed(origin) {
    // Same rule as donate/origins.py: exact match, or "scheme://host:*" for any port.
    return !!origin && (origin === location.origin || allowed.some(function (entry) {
      return entry === origin ||
        (entry.slice(-2) === ":*" && origin.replace(/:\d+$/, "") === entry.slice(0, -2));
    }));
  }

  var framed = window.parent !== window, trusted = framed && isAllowed(parentOrigin);
  if (trusted && window.ResizeObserver) {
    // Size messages go to the embedding page's origin only, never to "*".
    var lastHeight = 0;
    var report = function () {
      var height = Math.ceil(root.getBoundingClientRect().height);
      if (height !== lastHeight) {
        lastHeight = height;
        window.parent.postMessage({ donate: "size", height: height }, parentOrigin);
      }
    };
    new ResizeObserver(report).observe(root);
    report();
  }

  var form = doc.getElementById("give");
  if (!form) return;
  var fields = form.elements;
  if (trusted && page) {
    try {
      if (new URL(page).origin === parentOrigin) fields.source_url.value = page.split("#")[0];
    } catch (ignored) { /* not a URL: donors return to the goal page */ }
  }
  var article = query.get("article");
  if (article && !fields.article.value) fields.article.value = article.slice(0, 200);

  var data = form.dataset;
  if (window.origin === "null") {
    // A sandbox without allow-same-origin: our server could not tell the gift came from us.
    var link = doc.createElement("a");
    link.href = data.page;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = data.fallback;
    form.replaceWith(link);
    return;
  }

  var amount = fields.amount, error = doc.getElementById("amount-error");
  var presets = form.querySelectorAll("input[name=amount_minor]");
  var exponent = +data.exp, step = +data.step, minimum = +data.min, maximum = +data.max;
  var parsed = 0, raised = +data.raised, target = +data.target;

  function groupsValid(groups) {
    // "1,000,000" or, where the locale groups so, "10,00,000"; never "0.500" or "1,00".
    if (groups.length < 2) return true;
    if (!/^[1-9]\d{0,2}$/.test(groups[0])) return false;
    return [3, +data.grp2].some(function (size) {
      return groups[groups.length - 1].length === 3 && groups[0].length <= size &&
        groups.slice(1, -1).every(function (g) { return g.length === size; });
    });
  }

  function fold(text) {
    // As money._normalise: full-width forms become ASCII ("２５" is 25), format marks go.
    return Array.from(text, function (char) {
      var code = char.codePointAt(0);
      return code >= 0xFF01 && code <= 0xFF5E ? String.fromCharCode(code - 0xFEE0) : char;
    }).join("").replace(/\p{Cf}/gu, "");
  }

  // Mirrors money.parse_amount for what people commonly type; the server decides in the end.
  function check(text) {
    text = fold(text);
    // Only the server's digits count; "10²", "⑩" or "١٠" are refused, never read as numbers.
    if (Array.from(text).some(function (char) {
      return /\p{N}/u.test(char) && (data.digits || "0123456789").indexOf(char) < 0;
    })) return "digits";
    text = text.replace(/[\s'’]/g, "").replace(/([.,])[-–—]{1,2}$/, "");
    if (/^[-−–—]/.test(text.replace(/^[^\d.,\-−–—]+/, ""))) return "positive";
    text = text.replace(/^[^\d.,]+|[^\d.,]+$/g, "");
    if (!text || /[^\d.,]/.test(text)) return "nan";
    var parts = text.split(/[.,]/), separators = text.replace(/\d/g, ""), whole, fraction = "";
    if (parts.some(function (p) { return !p; })) return "nan";
    if (separators) {
      var last = separators.slice(-1);
      if (separators.replace(new RegExp("\\" + last, "g"), "").length) {
        // Two kinds: the last one is the decimal separator.
        if (separators.indexOf(last) !== separators.length - 1) return "several";
        fraction = parts.pop();
        if (!groupsValid(parts)) return "groups";
      } else if (separators.length > 1) {
        if (!groupsValid(parts)) return last === data.dec ? "several" : "groups";
      } else if (parts[1].length === 3 && groupsValid(parts)) {
        if (last === data.dec) fraction = parts.pop();
        else if (last !== data.grp) return "ambiguous";
      } else {
        fraction = parts.pop();
      }
    }
    whole = parts.join("").replace(/^0+/, "");
    if (fraction.length > exponent) return "decimals";
    if (whole.length > 13) return "max";
    var value = (+whole || 0) * Math.pow(10, exponent) + (+(fraction + "000").slice(0, exponent) || 0);
    typedMinor = value;
    if (value <= 0) return "positive";
    if (value % step) return "step";
    if (value < minimum) return "min";
    if (value > maximum) return "max";
    parsed = value;
    return "";
  }

  function clear() {
    error.hidden = true;
    error.textContent = "";
    amount.removeAttribute("aria-invalid");
  }

  var problem = doc.getElementById("give-error"), button = form.querySelector("button");
  var gift = doc.getElementById("gift"), preview = doc.getElementById("preview");
  var impact = doc.getElementById("impact");

  function digits(number) {
    // Grouped as the server's sample amount showed: sizes, separator, from how many digits.
    var text = String(number), out = "", size = +data.fg1;
    if (size && text.length >= +data.fmin) {
      while (text.length > size) {
        out = data.fgrp + text.slice(-size) + out;
        text = text.slice(0, -size);
        size = +data.fg2;
      }
    }
    return text + out;
  }

  // An integer amount in minor units as money.format_amount(compact=True) writes it.
  function formatMinor(minor) {
    var unit = Math.pow(10, exponent), fraction = minor % unit;
    return data.fmt.replace("#", digits(Math.floor(minor / unit)) +
      (fraction ? data.fdec + String(unit + fraction).slice(1) : ""));
  }

  function percentOf(minor) {
    // As money.format_progress: floored, and "<1%" for a start too small for one percent.
    var percent = Math.floor(minor * 100 / target);
    return percent ? data.pct.replace("#", digits(percent)) : "<" + data.pct.replace("#", "1");
  }

  function checked() {
    return form.querySelector("input[name=amount_minor]:checked");
  }

  function monthly() {
    var radio = form.querySelector("input[name=frequency]:checked");
    return !!radio && radio.value === "monthly";
  }

  function update() {
    // The button, the impact line, the bar's second segment and where the gift takes us.
    var typed = amount.value.trim(), radio = checked(), text = "";
    var minor = typed ? (check(typed) ? 0 : parsed) : radio ? +radio.value : 0;
    var after = raised + minor;
    impact.textContent = !typed && radio && radio.dataset.impact || "";
    impact.hidden = !impact.textContent;
    button.textContent = minor
      ? data[monthly() ? "tMonthly" : "tOnce"].replace("{a}", formatMinor(minor)) : data.tGive;
    if (minor && !data.showpct) {
      text = data.tSum.replace("{a}", formatMinor(after));
    } else if (minor) {
      var passed = data.ms.split(" ").filter(function (m) {
        return m && raised < +m && +m <= after;
      }).pop();
      text = (raised < target && target <= after ? data.tGoal
        : passed ? data.tPast.replace("{m}", formatMinor(+passed)) : data.tTo)
        .replace("{p}", percentOf(after));
    }
    if (preview.textContent !== text) preview.textContent = text;
    if (gift) {
      var base = Math.min(Math.floor(raised * 100 / target), 100);
      gift.style.width = minor ? Math.max(0, Math.min(after, target) * 100 / target - base) + "%" : 0;
    }
  }

  function swap() {
    // Monthly gifts may have presets and a default of their own.
    var wanted = monthly() ? "monthly" : "once", sets = form.querySelectorAll(".presets");
    var radio = checked(), before = monthly() ? data.do : data.dm;
    var pick = !amount.value.trim() && (sets.length > 1 || !radio || radio.value === before);
    if (sets.length > 1) {
      sets.forEach(function (set) {
        set.hidden = set.dataset.freq !== wanted;
        set.querySelectorAll("input").forEach(function (input) { input.disabled = set.hidden; });
      });
    }
    if (pick) {
      var value = monthly() ? data.dm : data.do;
      presets.forEach(function (input) { input.checked = !input.disabled && input.value === value; });
    }
    update();
  }

  amount.addEventListener("input", function () {
    if (amount.value) presets.forEach(function (radio) { radio.checked = false; });
    clear();
    update();
  });
  presets.forEach(function (radio) {
    radio.addEventListener("change", function () { amount.value = ""; clear(); update(); });
  });
  form.querySelectorAll("input[name=frequency]").forEach(function (radio) {
    radio.addEventListener("change", swap);
  });

  function say(element, text) {
    element.textContent = text;
    element.hidden = false;
  }

  function opened(url, clicked) {
    // The tab goes to Checkout. A link stays in the frame: the browser lets a frame move the tab
    // only for a few seconds after the click, and a click on the link starts them again.
    var link = doc.createElement("a");
    link.href = url;
    link.target = "_top";
    link.className = "button";
    link.textContent = data.continue;
    problem.hidden = true;
    button.replaceWith(link);
    var active = navigator.userActivation ? navigator.userActivation.isActive
      : Date.now() - clicked < 4000;
    if (active) {
      try { window.top.location.href = url; } catch (ignored) { /* the link remains */ }
    }
    link.focus();
  }

  function give(clicked) {
    // Posted from here, so a refusal or an unreachable payment provider is said in the frame,
    // once, with the form still there, and the article stays where it was.
    button.disabled = true;
    problem.hidden = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "omit"
    }).then(function (answer) {
      return answer.json().then(function (body) {
        if (answer.ok && body.checkout_url) return opened(body.checkout_url, clicked);
        // The give view's refusals carry their sentence in "error"; the app's other JSON errors
        // (429, 503, 413) carry a title there and the sentence in "message".
        var text = (body.field ? body.error : body.message || body.error) || data.unreachable;
        if (body.field === "amount") {
          say(error, text);
          amount.setAttribute("aria-invalid", "true");
        } else {
          say(problem, text);
        }
      });
    }).catch(function () {
      say(problem, data.unreachable);
    }).then(function () {
      button.disabled = false;
    });
  }

  form.addEventListener("submit", function (event) {
    var typed = amount.value.trim();
    var reason = typed ? check(typed) : form.querySelector("input[name=amount_minor]:checked") ? "" : "empty";
    event.preventDefault();
    if (!reason) return give(Date.now());
    say(error, data["m" + reason[0].toUpperCase() + reason.slice(1)]);
    amount.setAttribute("aria-invalid", "true");
    amount.focus();
  });

  // Cover the fees: the label's amount follows the gift, in donate/fee_cover.py's integers (the
  // server computes it again from the saved rule).
  var fee = doc.getElementById("fee-cover"), typedMinor = 0;

  if (fee) {
    var rule = fee.dataset, feeAmount = fee.querySelector(".fee-amt");
    var feeFor = function (gift) {
      // fixed + ceil((gift + fixed) * bp / (10000 - bp)), kept below 2^53 by the charge limit.
      var bp = +rule.bp, fixed = +rule.fixed, n = (gift + fixed) * bp, d = 10000 - bp;
      var q = Math.floor(n / d);
      while (q * d > n) q--;
      while (q * d < n) q++;
      var extra = fixed + q;
      extra += (rule.fstep - extra % rule.fstep) % rule.fstep;
      return Math.max(0, Math.min(extra, rule.cap - gift));
    };
    var followGift = function () {
      var chosen = form.querySelector("input[name=amount_minor]:checked");
      var typed = amount.value.trim();
      var gift = typed ? (check(typed) ? 0 : typedMinor) : chosen ? +chosen.value : 0;
      if (gift > 0) feeAmount.textContent = formatMinor(feeFor(gift));
    };
    amount.addEventListener("input", followGift);
    presets.forEach(function (radio) { radio.addEventListener("change", followGift); });
    // Switching once/monthly checks another preset in code, which fires no change event.
    form.querySelectorAll("input[name=frequency]").forEach(function (radio) {
      radio.addEventListener("change", followGift);
    });
  }
})();

(function () {
  "use strict";
  // Back from Checkout: the loader put the gift's signed token in our fragment, which no request
  // carries, so our URL stays the cached one. Ask for that gift past every cache, then thank the
  // donor where the form was, with their gift in the bar.
  var doc = document, box = doc.getElementById("thank-you");
  var mark = /^#donate-thanks=([\w.-]*)$/.exec(location.hash);
  if (!box || !mark) return;
  history.replaceState(history.state, "", location.pathname + location.search);
  var form = doc.getElementById("give"), again = box.querySelector(".again");

  function fill(selector, text) {
    box.querySelectorAll(selector).forEach(function (element) { element.textContent = text; });
  }

  function show(gift) {
    // No gift (an old link, an expired or forged token): a thank-you without an amount.
    // The form's preview of a gift goes with the form; the donor's own gift may take its place.
    var mine = doc.getElementById("gift");
    if (mine) mine.style.width = "0";
    if (gift) {
      var when = gift.state === "confirming" ? "confirming" : !gift.percent_text ? "plain"
        : gift.monthly ? "monthly" : "once";
      box.querySelector("[data-when=" + when + "]").hidden = false;
      fill(".ty-amount", gift.amount);
      fill(".ty-percent", gift.percent_text);
      // The cached card may predate the gift: the bar and the sum raised as they are now.
      var bar = doc.querySelector(".bar"), done = bar && bar.querySelector(".fill");
      var raised = doc.querySelector(".raised strong");
      if (done) {
        done.style.width = gift.bar - gift.gift_bar + "%";
        if (!mine && gift.gift_bar > 0) {
          mine = doc.createElement("span");
          mine.className = "gift";
          done.after(mine);
        }
        if (mine) {
          mine.style.left = done.style.width;
          mine.style.width = gift.gift_bar + "%";
        }
        bar.setAttribute("aria-valuenow", Math.floor(gift.bar));
        bar.setAttribute("aria-valuetext", gift.value_text);
      }
      if (raised) raised.textContent = gift.raised;
    }
    if (form) form.hidden = true;
    box.hidden = false;
  }

  if (again && form) {
    again.addEventListener("click", function () {
      box.hidden = true;
      form.hidden = false;
      form.querySelector("input[type=radio],#amount").focus();
    });
  }
  if (!mark[1]) return show(null);
  var query = new URLSearchParams({ token: mark[1], locale: box.dataset.locale });
  fetch(box.dataset.url + "?" + query, { cache: "no-store", credentials: "omit" })
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .catch(function () { return null; })
    .then(function (gift) {
      // A payment that failed meanwhile: the plain form, nothing said.
      if (!gift || gift.state !== "failed") show(gift);
    });
})();
