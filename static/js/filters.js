/* Catalogue filters: submit the GET form when a facet or the sort changes, keep shared
   addresses short (empty fields are not sent), and keep the facet panel open on wide screens
   and across a phone's reload. The form works without this script. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (!form) return;
  var details = form.querySelector("details[data-facets]");
  var wide = window.matchMedia("(min-width: 56rem)");
  var KEY = "cho-htx-facets-open";

  function remembered() {
    try { return window.sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }
  function remember(open) {
    try {
      if (open) window.sessionStorage.setItem(KEY, "1");
      else window.sessionStorage.removeItem(KEY);
    } catch (e) { /* private mode: the panel just starts closed */ }
  }

  if (details) {
    if (wide.matches || remembered()) details.open = true;
    remember(false);
    wide.addEventListener("change", function (event) { if (event.matches) details.open = true; });
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-js-hidden]"), function (el) {
    el.hidden = true;
  });

  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.tagName === "SELECT" && !el.value) el.disabled = true;
    });
    if (details && details.open && !wide.matches) remember(true);
  });
  // Back from the next page: the browser may restore the disabled fields.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(form.elements, function (el) { el.disabled = false; });
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el || el.form !== form) return;
    // A category belongs to a sector: choosing another sector starts the category afresh.
    if (el.name === "sector" && form.elements.category) form.elements.category.value = "";
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });
})();
