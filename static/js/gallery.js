/* Chợ HTX — product gallery: a thumbnail shows its photo in the large frame.
   Without this script a thumbnail is a plain link to the large photo. */
(function () {
  "use strict";

  document.querySelectorAll("[data-gallery]").forEach(function (gallery) {
    var main = gallery.querySelector("[data-gallery-main]");
    var image = main && main.querySelector("img");
    if (!image) { return; }

    gallery.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[data-src]") : null;
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button > 0) { return; }
      event.preventDefault();
      image.removeAttribute("srcset");
      image.src = link.getAttribute("data-src");
      image.setAttribute("srcset", link.getAttribute("data-srcset"));
      image.width = parseInt(link.getAttribute("data-width"), 10);
      image.height = parseInt(link.getAttribute("data-height"), 10);
      image.alt = link.getAttribute("data-alt");
      main.href = link.href;
      gallery.querySelectorAll("a[data-src]").forEach(function (other) {
        if (other === link) {
          other.setAttribute("aria-current", "true");
        } else {
          other.removeAttribute("aria-current");
        }
      });
    });
  });
})();
