/* Apply the saved theme before the page paints (loaded in <head>, no inline script). */
(function () {
  try {
    var theme = localStorage.getItem("beacon-theme");
    if (theme === "light" || theme === "dark") {
      document.documentElement.setAttribute("data-theme", theme);
    }
  } catch (e) { /* storage unavailable: follow the system */ }
})();
