// tagpilot status page: refresh the page's <main> in place (no reload, no flicker) and
// submit the overview's filters when they change. Without scripting, <meta refresh> does it.
(function () {
  "use strict";
  var seconds = parseInt(document.body.getAttribute("data-refresh"), 10) || 5;
  var live = document.querySelector("header .live");

  function wireFilters() {
    var form = document.querySelector("form.filters");
    if (!form) return;
    form.querySelectorAll("select, input").forEach(function (field) {
      field.addEventListener("change", function () { form.submit(); });
    });
  }

  function refresh() {
    fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("main");
        var current = document.querySelector("main");
        if (fresh && current && fresh.innerHTML !== current.innerHTML) {
          current.innerHTML = fresh.innerHTML;
          wireFilters();
        }
        if (live) live.textContent = "updated " + new Date().toLocaleTimeString();
      })
      .catch(function (error) {
        if (live) live.textContent = "cannot refresh: " + error.message;
      })
      .finally(function () { window.setTimeout(refresh, seconds * 1000); });
  }

  wireFilters();
  window.setTimeout(refresh, seconds * 1000);
})();
