/* Beacon public pages: local times, day-bar popovers, theme toggle.
 * Everything here is an enhancement: the pages read fully without it
 * (times in the site's zone, bar tooltips from title attributes). */
(function () {
  "use strict";

  /* --- Times in the reader's zone --------------------------------------------
   * The server writes the site's zone ("2026-03-04 14:02 UTC"); the <time
   * datetime> attribute keeps the exact instant. */
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function zoneName(when) {
    try {
      var parts = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(when);
      for (var i = 0; i < parts.length; i++) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (e) { /* no Intl: fall back to the offset */ }
    var east = -when.getTimezoneOffset();
    if (east === 0) { return "UTC"; }
    var abs = Math.abs(east);
    return "UTC" + (east > 0 ? "+" : "-") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime").replace(/(\.\d{3})\d+/, "$1"));
    if (isNaN(when.getTime())) { return; }
    var abs = el.querySelector(".abs");
    if (!abs) { return; }
    var text = when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) +
      " " + pad(when.getHours()) + ":" + pad(when.getMinutes()) + " " + zoneName(when);
    if (!el.title) { el.title = abs.textContent; }
    abs.textContent = text;
    el.setAttribute("data-local", "");
  });

  /* --- Day-bar popovers: hover, keyboard focus, or tap ------------------------ */
  var pop = null;
  var owner = null;
  function hide() {
    if (pop) { pop.hidden = true; }
    if (owner) {
      owner.setAttribute("title", owner.getAttribute("data-title"));
      owner.removeAttribute("aria-expanded");
      owner = null;
    }
  }
  function show(el) {
    if (owner === el) { return; }
    hide();
    var text = el.getAttribute("title") || el.getAttribute("data-title");
    if (!text) { return; }
    el.setAttribute("data-title", text);
    el.removeAttribute("title"); // no second, native tooltip on top of ours
    el.setAttribute("aria-expanded", "true");
    if (!pop) {
      pop = document.createElement("div");
      pop.className = "popover";
      pop.setAttribute("role", "tooltip");
      document.body.appendChild(pop);
    }
    pop.textContent = text;
    pop.hidden = false;
    var box = el.getBoundingClientRect();
    var width = pop.offsetWidth;
    var left = Math.min(Math.max(8, box.left + box.width / 2 - width / 2),
      document.documentElement.clientWidth - width - 8);
    pop.style.left = (left + window.scrollX) + "px";
    pop.style.top = (box.bottom + window.scrollY + 6) + "px";
    owner = el;
  }
  function bar(target) {
    return target && target.closest ? target.closest(".bars .d, .minutes .m[title], .minutes .m[data-title]") : null;
  }
  document.addEventListener("mouseover", function (event) {
    var el = bar(event.target);
    if (el) { show(el); } else if (owner) { hide(); }
  });
  document.addEventListener("focusin", function (event) {
    var el = bar(event.target);
    if (el) { show(el); } else if (owner) { hide(); }
  });
  document.addEventListener("click", function (event) {
    var el = bar(event.target);
    // A tap on a bar that is not a link shows its popover; a second tap hides it.
    if (el && el.tagName !== "A") {
      if (owner === el) { hide(); } else { show(el); }
    } else if (!el && owner) {
      hide();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hide(); }
  });
  // The popover is placed in page coordinates, so it scrolls with its bar.

  /* --- Theme toggle: the site's choice -> light -> dark, saved per reader ------ */
  var THEMES = ["auto", "light", "dark"];
  var NAMES = { auto: "Auto", light: "Light", dark: "Dark" };
  var toggle = document.getElementById("theme-toggle");
  var root = document.documentElement;
  function saved() {
    try { return localStorage.getItem("beacon-theme") || "auto"; } catch (e) { return "auto"; }
  }
  function apply(theme) {
    if (theme === "auto") { root.removeAttribute("data-theme"); } else { root.setAttribute("data-theme", theme); }
    if (toggle) {
      toggle.querySelector(".theme-name").textContent = NAMES[theme];
      toggle.setAttribute("aria-label", "Theme: " + NAMES[theme] + " (click to change)");
    }
  }
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var next = THEMES[(THEMES.indexOf(saved()) + 1) % THEMES.length];
      try { localStorage.setItem("beacon-theme", next); } catch (e) { /* ignore */ }
      apply(next);
    });
    apply(saved());
  }
})();
