/* Suggestions while typing in a search box (input[data-suggest]): an ARIA combobox whose
   listbox holds links. The form is a plain GET form and works without this script. */
(function () {
  "use strict";

  var MIN_LENGTH = 2;
  var DELAY_MS = 150;
  var boxes = 0;

  function setup(input) {
    var form = input.form;
    var id = "suggestions-" + ++boxes;
    var list = document.createElement("ul");
    var cache = new Map();
    var options = [];
    var active = -1;
    var timer = null;
    var controller = null;

    list.id = id;
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.labels && input.labels[0] ? input.labels[0].textContent : "");
    list.hidden = true;
    form.classList.add("has-suggestions");
    form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id);

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function render(data) {
      list.textContent = "";
      options = (data && data.suggestions) || [];
      active = -1;
      if (!options.length || document.activeElement !== input) {
        close();
        return;
      }
      options.forEach(function (item, i) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        var label = document.createElement("span");
        var hint = document.createElement("span");
        // The link itself is the option (an option's children are presentational, so a link
        // inside one would be hidden from screen readers); its list item is only layout.
        li.setAttribute("role", "none");
        link.id = id + "-" + i;
        link.setAttribute("role", "option");
        link.setAttribute("aria-selected", "false");
        link.href = item.url;
        link.tabIndex = -1;
        label.textContent = item.label;
        hint.className = "suggestion-kind";
        hint.textContent = item.hint;
        link.append(label, " ", hint);
        li.appendChild(link);
        // Keep the focus in the box, so the list stays open until the link is followed.
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
        });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function load() {
      var q = input.value.trim();
      if (q.length < MIN_LENGTH) {
        close();
        return;
      }
      if (cache.has(q)) {
        render(cache.get(q));
        return;
      }
      if (controller) controller.abort();
      controller = new AbortController();
      fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), {
        signal: controller.signal,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (data) {
          cache.set(q, data);
          if (input.value.trim() === q) render(data);
        })
        .catch(function () {});
    }

    function move(step) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      if (active >= 0) items[active].setAttribute("aria-selected", "false");
      active = (active + step + items.length) % items.length;
      items[active].setAttribute("aria-selected", "true");
      items[active].scrollIntoView({ block: "nearest" });
      input.setAttribute("aria-activedescendant", items[active].id);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(load, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && list.hidden && input.value.trim().length >= MIN_LENGTH) {
        event.preventDefault();
        load();
        return;
      }
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.href = options[active].url;
      } else if (event.key === "Escape") {
        // The first Escape closes the list; only a second one clears the box.
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-suggest]").forEach(setup);
})();
