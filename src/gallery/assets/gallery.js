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
     chosen value. The choice lives in the address (?tag=crown&view=top), so a filtered view can
     be shared and the back button undoes a choice. Counts say how many cases an option would
     show together with the other groups' choices. With several pages, the first choice loads
     the other pages' cards (a no-JavaScript visitor follows "Show more" instead). */
  function setupFilters(box) {
    var grid = document.querySelector(".grid");
    var count = document.querySelector("[data-count]");
    var none = document.querySelector("[data-none]");
    var clear = box.querySelector("[data-clear]");
    var buttons = box.querySelectorAll("button[data-group]");
    var groups = [];
    each(buttons, function (b) {
      var g = b.getAttribute("data-group");
      if (groups.indexOf(g) < 0) {
        groups.push(g);
      }
    });

    function chosenFromUrl() {
      var params = new URLSearchParams(location.search);
      var chosen = {};
      groups.forEach(function (g) {
        chosen[g] = params.get(g) || "";
      });
      return chosen;
    }

    function matches(card, chosen, skip) {
      return groups.every(function (g) {
        var keys = (card.getAttribute("data-" + g) || "").split(" ");
        return g === skip || !chosen[g] || keys.indexOf(chosen[g]) >= 0;
      });
    }

    function apply(chosen) {
      var cards = grid.querySelectorAll(".card");
      var all = !more();
      var shown = 0;
      each(cards, function (card) {
        var ok = matches(card, chosen);
        card.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      var active = groups.some(function (g) {
        return chosen[g];
      });
      each(buttons, function (b) {
        var g = b.getAttribute("data-group");
        var v = b.getAttribute("data-value");
        b.setAttribute("aria-pressed", String((chosen[g] || "") === v));
        var n = b.querySelector(".n");
        if (n && all) {
          var c = 0;
          var trial = Object.assign({}, chosen);
          trial[g] = v;
          each(cards, function (card) {
            c += matches(card, trial) ? 1 : 0;
          });
          n.textContent = String(c);
        }
      });
      clear.hidden = !active;
      none.hidden = shown > 0 || cards.length === 0;
      if (count && active) {
        count.textContent = "Showing " + shown + " of " + plural(cards.length);
      } else if (count && all) {
        count.textContent = plural(cards.length);
      }
    }

    function choose(chosen) {
      var params = new URLSearchParams();
      groups.forEach(function (g) {
        if (chosen[g]) {
          params.set(g, chosen[g]);
        }
      });
      var query = params.toString();
      history.pushState(null, "", query ? "?" + query : location.pathname);
      loadAll(function () {
        apply(chosen);
      });
    }

    box.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) {
        return;
      }
      var chosen = chosenFromUrl();
      if (button.hasAttribute("data-clear")) {
        chosen = {};
      } else {
        chosen[button.getAttribute("data-group")] = button.getAttribute("data-value");
      }
      choose(chosen);
    });
    window.addEventListener("popstate", function () {
      apply(chosenFromUrl());
    });
    var initial = chosenFromUrl();
    if (groups.some(function (g) { return initial[g]; })) {
      loadAll(function () {
        apply(initial);
      });
    } else {
      apply(initial);
    }
  }

  /* "Show more": without JavaScript a link to the next page; with it, the next page's cards
     are added to this one. */
  function more() {
    return document.querySelector("[data-more]");
  }

  function loadNext(done) {
    var link = more();
    if (!link || !window.fetch) {
      done(false);
      return;
    }
    fetch(link.href)
      .then(function (r) {
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, "text/html");
        var grid = document.querySelector(".grid");
        each(next.querySelectorAll(".grid .card"), function (card) {
          grid.appendChild(document.adoptNode(card));
        });
        var nextLink = next.querySelector("[data-more]");
        var pager = document.querySelector(".pager");
        if (nextLink) {
          link.href = new URL(nextLink.getAttribute("href"), link.href).href;
        } else if (pager) {
          pager.parentNode.removeChild(pager);
        }
        done(true);
      })
      .catch(function () {
        done(false);
      });
  }

  function loadAll(done) {
    loadNext(function (ok) {
      if (ok && more()) {
        loadAll(done);
      } else {
        done();
      }
    });
  }

  function setupMore(link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      loadNext(function (ok) {
        if (!ok) {
          location.href = link.href;
        }
      });
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
    setupZoom(frame, range);
  }

  /* Zoom: the frame goes full screen and both photos zoom and pan together (one transform on
     both), so the divider still compares the same spot. Wheel and +/- zoom, a drag pans (a drag
     near the divider still moves it), two fingers pinch. The largest file loads only now: the
     photos' `sizes` is raised to the zoomed width. */
  function setupZoom(frame, range) {
    var button = frame.querySelector("[data-zoom]");
    if (!button) {
      return;
    }
    var z = { on: false, s: 1, x: 0, y: 0 };
    var pointers = {};
    var panning = false;
    var last = null;

    function apply() {
      var r = frame.getBoundingClientRect();
      z.s = Math.min(8, Math.max(1, z.s));
      z.x = Math.min(0, Math.max(r.width * (1 - z.s), z.x));
      z.y = Math.min(0, Math.max(r.height * (1 - z.s), z.y));
      frame.style.setProperty("--z", String(z.s));
      frame.style.setProperty("--tx", z.x + "px");
      frame.style.setProperty("--ty", z.y + "px");
      each(frame.querySelectorAll("img, source"), function (el) {
        if (z.on && !el.hasAttribute("data-sizes")) {
          el.setAttribute("data-sizes", el.getAttribute("sizes"));
          el.setAttribute("sizes", Math.ceil(r.width * 8) + "px");
        }
      });
    }

    function zoomAt(factor, clientX, clientY) {
      var r = frame.getBoundingClientRect();
      var cx = clientX - r.left;
      var cy = clientY - r.top;
      var s = Math.min(8, Math.max(1, z.s * factor));
      z.x = cx - ((cx - z.x) * s) / z.s;
      z.y = cy - ((cy - z.y) * s) / z.s;
      z.s = s;
      apply();
    }

    function centre() {
      var r = frame.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2];
    }

    function toggle(on) {
      z = { on: on, s: 1, x: 0, y: 0 };
      frame.classList.toggle("zoomed", on);
      button.textContent = on ? "Close" : "Zoom";
      button.setAttribute("aria-label", on ? "Close zoom" : "Zoom: full screen");
      if (on && frame.requestFullscreen) {
        frame.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement === frame) {
        document.exitFullscreen().catch(function () {});
      }
      apply();
      range.focus();
    }

    button.hidden = false;
    button.addEventListener("click", function () {
      toggle(!z.on);
    });
    document.addEventListener("fullscreenchange", function () {
      if (z.on && !document.fullscreenElement) {
        toggle(false);
      }
    });
    frame.addEventListener("wheel", function (event) {
      if (z.on) {
        event.preventDefault();
        zoomAt(Math.exp(-event.deltaY * 0.002), event.clientX, event.clientY);
      }
    }, { passive: false });
    frame.addEventListener("keydown", function (event) {
      if (!z.on) {
        return;
      }
      var c = centre();
      if (event.key === "+" || event.key === "=") {
        zoomAt(1.25, c[0], c[1]);
      } else if (event.key === "-" || event.key === "_") {
        zoomAt(0.8, c[0], c[1]);
      } else if (event.key === "Escape") {
        toggle(false);
      } else {
        return;
      }
      event.preventDefault();
    });
    /* In zoom mode a pointer pans unless it starts on the divider; two pinch. Runs before the
       divider's own handlers (capture), which it stops when it takes the gesture. */
    range.addEventListener("pointerdown", function (event) {
      if (!z.on) {
        return;
      }
      var r = frame.getBoundingClientRect();
      var divider = r.left + (r.width * Number(range.value)) / 100;
      pointers[event.pointerId] = [event.clientX, event.clientY];
      panning = Object.keys(pointers).length > 1 || Math.abs(event.clientX - divider) > 24;
      if (panning) {
        event.stopImmediatePropagation();
        event.preventDefault();
        range.setPointerCapture(event.pointerId);
        last = null;
      }
    }, true);
    range.addEventListener("pointermove", function (event) {
      if (!z.on || !pointers[event.pointerId]) {
        return;
      }
      var prev = pointers[event.pointerId];
      pointers[event.pointerId] = [event.clientX, event.clientY];
      var ids = Object.keys(pointers);
      if (ids.length > 1) {
        var a = pointers[ids[0]];
        var b = pointers[ids[1]];
        var d = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (last) {
          zoomAt(d / last, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
        }
        last = d;
        event.stopImmediatePropagation();
      } else if (panning) {
        z.x += event.clientX - prev[0];
        z.y += event.clientY - prev[1];
        apply();
        event.stopImmediatePropagation();
      }
    }, true);
    each(["pointerup", "pointercancel"], function (type) {
      range.addEventListener(type, function (event) {
        delete pointers[event.pointerId];
        panning = Object.keys(pointers).length > 0 && panning;
        last = null;
      }, true);
    });
  }

  each(document.querySelectorAll("[data-more]"), setupMore);
  each(document.querySelectorAll("[data-filters]"), setupFilters);
  each(document.querySelectorAll("[data-compare]"), setupCompare);
})();
