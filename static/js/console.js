/* Beacon console: theme toggle, keyboard shortcuts, kind fieldsets, local times.
 * Everything here is an enhancement: every page works without it. */
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;

  /* --- Theme: auto -> light -> dark, kept in localStorage ------------------- */
  var THEMES = ["auto", "light", "dark"];
  var NAMES = { auto: "Auto", light: "Light", dark: "Dark" };
  var toggle = document.getElementById("theme-toggle");
  function savedTheme() {
    try { return localStorage.getItem("beacon-theme") || "auto"; } catch (e) { return "auto"; }
  }
  function applyTheme(theme) {
    if (theme === "auto") { root.removeAttribute("data-theme"); }
    else { root.setAttribute("data-theme", theme); }
    if (toggle) {
      var name = toggle.querySelector(".theme-name");
      if (name) { name.textContent = NAMES[theme]; }
      toggle.setAttribute("aria-label", "Theme: " + NAMES[theme] + " (click to change)");
    }
  }
  if (toggle) {
    toggle.addEventListener("click", function () {
      var next = THEMES[(THEMES.indexOf(savedTheme()) + 1) % THEMES.length];
      try { localStorage.setItem("beacon-theme", next); } catch (e) { /* ignore */ }
      applyTheme(next);
    });
  }
  applyTheme(savedTheme());

  /* --- Keyboard shortcuts ----------------------------------------------------- */
  var dialog = document.getElementById("shortcuts");
  function toggleShortcuts() {
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    if (dialog.open) { dialog.close(); } else { dialog.showModal(); }
  }
  document.querySelectorAll("[data-shortcuts-open]").forEach(function (el) {
    el.addEventListener("click", toggleShortcuts);
  });
  var GO = {
    m: body.getAttribute("data-url-monitors"),
    u: body.getAttribute("data-url-users"),
    i: body.getAttribute("data-url-incidents"),
    a: body.getAttribute("data-url-alerts")
  };
  var pendingG = false;
  var gTimer = null;
  function isTyping(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (isTyping(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    if (dialog && dialog.open && event.key !== "?") { return; }
    if (pendingG) {
      pendingG = false;
      clearTimeout(gTimer);
      var url = GO[event.key];
      if (url) { event.preventDefault(); window.location.assign(url); }
      return;
    }
    if (event.key === "/") {
      var search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "?") {
      event.preventDefault();
      toggleShortcuts();
    } else if (event.key === "g") {
      pendingG = true;
      gTimer = setTimeout(function () { pendingG = false; }, 1500);
    } else if (event.key === "a") {
      // On an incident page: acknowledge.
      var ack = document.querySelector("form[data-ack-form]");
      if (ack && !document.querySelector("dialog[open]")) {
        event.preventDefault();
        if (typeof ack.requestSubmit === "function") { ack.requestSubmit(); } else { ack.submit(); }
      }
    }
  });

  /* --- Monitor form: show only the selected kind's fieldset ------------------- */
  var kindSelect = document.querySelector("[data-kind-select]");
  if (kindSelect) {
    var syncKind = function () {
      document.querySelectorAll("[data-kind-fieldset]").forEach(function (fs) {
        fs.hidden = fs.getAttribute("data-kind-fieldset") !== kindSelect.value;
      });
    };
    kindSelect.addEventListener("change", syncKind);
    syncKind();
  }

  /* --- htmx failures: say so where the result would have appeared ----------- */
  function showFailure(event, text) {
    var target = (event.detail && event.detail.target) || document.getElementById("live");
    if (!target) { return; }
    var note = target.querySelector(".live-error") || document.createElement("p");
    note.className = "live-result live-error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    target.prepend(note);
  }
  document.body.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showFailure(event, status === 403
      ? "Your role does not allow this action."
      : "The server answered with an error (HTTP " + status + "). Reload the page and try again.");
  });
  document.body.addEventListener("htmx:sendError", function (event) {
    showFailure(event, "The server could not be reached. Check your connection and try again.");
  });

  /* --- Times: show absolute times in the reader's zone ------------------------
   * The server writes UTC ("2026-03-04 14:02:00 UTC, 12 minutes ago"); the
   * <time datetime> attribute keeps the exact UTC instant and the title keeps
   * the UTC text, so only the visible absolute part changes. */
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
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
  function localTimes(scope) {
    var today = localDay(new Date());
    scope.querySelectorAll("time[datetime]:not([data-local])").forEach(function (el) {
      // Browsers differ on more than 3 fractional digits: keep milliseconds.
      var iso = el.getAttribute("datetime").replace(/(\.\d{3})\d+/, "$1");
      var when = new Date(iso);
      if (isNaN(when.getTime())) { return; }
      var day = localDay(when);
      var clock = pad(when.getHours()) + ":" + pad(when.getMinutes()) + ":" + pad(when.getSeconds());
      var zone = zoneName(when);
      var absolute = el.querySelector(".abs");
      if (absolute) {
        absolute.textContent = (day !== today ? day + " " : "") + clock + " " + zone + ", ";
      }
      if (zone !== "UTC") { el.title = el.title + " \u00b7 " + day + " " + clock + " " + zone; }
      el.setAttribute("data-local", "");
    });
  }
  localTimes(document);
  document.body.addEventListener("htmx:load", function (event) { localTimes(event.target); });

  /* --- Dialogs: [data-dialog-open="id"] opens <dialog id>, a plain link without JS -- */
  document.querySelectorAll("[data-dialog-open]").forEach(function (el) {
    var target = document.getElementById(el.getAttribute("data-dialog-open"));
    if (!target || typeof target.showModal !== "function") { return; }
    el.addEventListener("click", function (event) {
      event.preventDefault();
      target.showModal();
      var first = target.querySelector("select, textarea, input:not([type=hidden])");
      if (first) { first.focus(); }
    });
  });
  document.querySelectorAll("[data-dialog-close]").forEach(function (el) {
    el.addEventListener("click", function () {
      var open = el.closest("dialog");
      if (open) { open.close(); }
    });
  });
})();
