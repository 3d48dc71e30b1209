/* beforeafter gallery: filters on the index; before/after sliders and series pickers on case
   pages. No network, no dependencies. Without it the pages still work: every card shows, and
   a case's photos sit side by side. */
(function () {
  "use strict";

  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }

  function plural(n) {
    return n + " case" + (n === 1 ? "" : "s");
  }

  /* Index: one chosen value per group (tag, treatment, view); a card shows when it has every
     chosen value. */
  function setupFilters(box) {
    var cards = document.querySelectorAll(".grid .card");
    var count = document.querySelector("[data-count]");
    var chosen = {};
    box.hidden = false;
    box.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-group]");
      if (!button) {
        return;
      }
      var group = button.getAttribute("data-group");
      chosen[group] = button.getAttribute("data-value");
      each(box.querySelectorAll("button[data-group]"), function (other) {
        if (other.getAttribute("data-group") === group) {
          other.setAttribute("aria-pressed", String(other === button));
        }
      });
      var shown = 0;
      each(cards, function (card) {
        var ok = Object.keys(chosen).every(function (g) {
          var keys = (card.getAttribute("data-" + g) || "").split(" ");
          return !chosen[g] || keys.indexOf(chosen[g]) >= 0;
        });
        card.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      if (count) {
        count.textContent =
          shown === cards.length ? plural(shown) : "Showing " + shown + " of " + plural(cards.length);
      }
    });
  }

  /* Case page: the range input (0-100) is the divider's position from the left; the right-hand
     photo is clipped to the part right of it. Keyboard comes from the native input; pointer and
     touch drags move the divider to the pointer anywhere on the photo. */
  function setupCompare(box) {
    var frame = box.querySelector(".frame");
    var range = frame.querySelector(".reveal");
    var stages = frame.querySelectorAll(".stage");
    var series = box.querySelector(".series");
    var a = 0;
    var b = stages.length - 1;
    var dragging = false;
    each(stages, function (stage, i) {
      a = stage.classList.contains("is-a") ? i : a;
      b = stage.classList.contains("is-b") ? i : b;
    });

    function name(i) {
      return stages[i].getAttribute("data-name");
    }

    function show(pos) {
      frame.style.setProperty("--pos", pos);
      range.setAttribute("aria-valuetext", name(a) + " " + pos + "%, " + name(b) + " " + (100 - pos) + "%");
    }

    function follow(event) {
      var rect = frame.getBoundingClientRect();
      var x = (event.clientX - rect.left) / rect.width;
      var pos = Math.round(Math.min(1, Math.max(0, x)) * 100);
      range.value = String(pos);
      show(pos);
    }

    function pick() {
      each(stages, function (stage, i) {
        stage.classList.toggle("is-a", i === a);
        stage.classList.toggle("is-b", i === b);
      });
      each(series.querySelectorAll("input"), function (radio) {
        var other = radio.name.slice(-1) === "a" ? b : a;
        radio.disabled = Number(radio.value) === other;
      });
      range.setAttribute(
        "aria-label",
        range.getAttribute("data-label") + ": " + name(a) + " on the left, " + name(b) + " on the right"
      );
      show(Number(range.value));
    }

    range.hidden = false;
    range.addEventListener("input", function () {
      show(Number(range.value));
    });
    range.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      dragging = true;
      range.setPointerCapture(event.pointerId);
      range.focus();
      follow(event);
    });
    range.addEventListener("pointermove", function (event) {
      if (dragging) {
        follow(event);
      }
    });
    each(["pointerup", "pointercancel"], function (type) {
      range.addEventListener(type, function () {
        dragging = false;
      });
    });
    if (series) {
      series.hidden = false;
      series.addEventListener("change", function (event) {
        var i = Number(event.target.value);
        if (event.target.name.slice(-1) === "a") {
          a = i;
        } else {
          b = i;
        }
        pick();
      });
    }
    show(Number(range.value));
  }

  each(document.querySelectorAll("[data-filters]"), setupFilters);
  each(document.querySelectorAll("[data-compare]"), setupCompare);
})();
