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
    var toggle = document.querySelector("[data-filter-toggle]");
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
      if (toggle) {
        var n = groups.filter(function (g) {
          return chosen[g];
        }).length;
        toggle.textContent = n ? "Filter (" + n + ")" : "Filter";
      }
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

    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = box.classList.toggle("open");
        toggle.setAttribute("aria-expanded", String(open));
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
        var first = null;
        each(next.querySelectorAll(".grid .card"), function (card) {
          first = first || card;
          grid.appendChild(document.adoptNode(card));
        });
        var nextLink = next.querySelector("[data-more]");
        var pager = document.querySelector(".pager");
        if (nextLink) {
          link.href = new URL(nextLink.getAttribute("href"), link.href).href;
        } else if (pager) {
          pager.parentNode.removeChild(pager);
        }
        done(true, first);
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

  /* After "Show more" the count says how many cards are shown now, and focus moves to the
     first new card, where the visitor's reading goes on (not back to the page's top). */
  function setupMore(link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      loadNext(function (ok, first) {
        if (!ok) {
          location.href = link.href;
          return;
        }
        var count = document.querySelector("[data-count]");
        var total = count && Number(count.getAttribute("data-total"));
        var shown = document.querySelectorAll(".grid .card").length;
        if (count && total) {
          count.textContent = more() ? "Cases 1\u2013" + shown + " of " + total : plural(total);
        }
        var a = first && first.querySelector("a");
        if (a) {
          a.focus();
        }
      });
    });
  }

  /* Case page: the range input (0-100) is the divider's position across the photo; the
     right-hand photo is clipped to the part right of it. Keyboard comes from the native input;
     pointer and touch drags move the divider to the pointer anywhere on the photo. */
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

    /* The photo's visible left and right edges in the frame, in pixels: the frame's own edges
       unless zoom set them (--l, --r). */
    function edges() {
      var rect = frame.getBoundingClientRect();
      var l = parseFloat(frame.style.getPropertyValue("--l"));
      var r = parseFloat(frame.style.getPropertyValue("--r"));
      return isNaN(l) || isNaN(r) ? [rect.left, rect.right] : [rect.left + l, rect.left + r];
    }

    function follow(event) {
      var e = edges();
      var x = (event.clientX - e[0]) / Math.max(1, e[1] - e[0]);
      var pos = Math.round(Math.min(1, Math.max(0, x)) * 100);
      range.value = String(pos);
      show(pos);
    }

    function pick() {
      each(stages, function (stage, i) {
        stage.classList.toggle("is-a", i === a);
        stage.classList.toggle("is-b", i === b);
      });
      each(series.querySelectorAll("select"), function (select) {
        var other = select.name.slice(-1) === "a" ? b : a;
        each(select.options, function (option) {
          option.disabled = Number(option.value) === other;
        });
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
    hint(frame, range);
    setupZoom(frame, range, edges);
  }

  /* First visit only: "Drag to compare" under the handle until the visitor moves it. */
  function hint(frame, range) {
    var key = "beforeafter-hinted";
    try {
      if (localStorage.getItem(key) || document.querySelector(".drag-hint")) {
        return;
      }
      localStorage.setItem(key, "1");
    } catch (e) {
      return;
    }
    var tip = document.createElement("span");
    tip.className = "drag-hint";
    tip.setAttribute("aria-hidden", "true");
    tip.textContent = "Drag to compare";
    frame.appendChild(tip);
    function gone() {
      if (tip.parentNode) {
        tip.parentNode.removeChild(tip);
      }
    }
    range.addEventListener("pointerdown", gone);
    range.addEventListener("input", gone);
  }

  function button(label, text, cls) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    if (cls) {
      b.className = cls;
    }
    return b;
  }

  /* Zoom: the frame goes full screen and both photos zoom and pan together (one transform on
     both), so the divider still compares the same spot. Buttons, the wheel and +/- zoom in
     steps of 1.25x, a drag pans (a drag near the divider still moves it), two fingers pinch.
     The zoom stops at two screen pixels per pixel of the largest file: beyond that there is
     nothing more to see. The largest file loads only now: `sizes` is raised to match. */
  function setupZoom(frame, range, edges) {
    var open = frame.querySelector("[data-zoom]");
    if (!open) {
      return;
    }
    var STEP = 1.25;
    var pixels = Number(getComputedStyle(frame).getPropertyValue("--w")) || 0;
    var z = { on: false, s: 1, x: 0, y: 0 };
    var pointers = {};
    var panning = false;
    var last = null;
    var bar = document.createElement("div");
    var out = button("Zoom out", "\u2212");
    var zin = button("Zoom in", "+");
    var reset = button("Show the whole photo", "Reset", "reset");
    var tip = document.createElement("p");
    bar.className = "zoombar";
    bar.append(out, zin, reset);
    tip.className = "zoomhint";
    tip.textContent = matchMedia("(pointer: coarse)").matches
      ? "Pinch to zoom, drag to move"
      : "Scroll or press + and \u2212 to zoom, drag to move";
    frame.append(bar, tip);

    /* The photo's size in the frame at 1x (object-fit: contain) and its offset. */
    function fitted(r) {
      var img = frame.querySelector(".is-b img");
      var aspect = img.naturalWidth && img.naturalHeight ? img.naturalWidth / img.naturalHeight : r.width / r.height;
      var w = Math.min(r.width, r.height * aspect);
      var h = w / aspect;
      return { w: w, h: h, x: (r.width - w) / 2, y: (r.height - h) / 2 };
    }

    function most(r) {
      return Math.max(1, pixels ? (2 * pixels) / fitted(r).w : 1);
    }

    function confine(r) {
      var f = fitted(r);
      var vars = {
        "--l": Math.max(0, z.x + f.x * z.s),
        "--r": Math.min(r.width, z.x + (f.x + f.w) * z.s),
        "--t": Math.max(0, z.y + f.y * z.s),
        "--b": Math.max(0, r.height - (z.y + (f.y + f.h) * z.s))
      };
      Object.keys(vars).forEach(function (k) {
        if (z.on) {
          frame.style.setProperty(k, vars[k] + "px");
        } else {
          frame.style.removeProperty(k);
        }
      });
    }

    function apply() {
      var r = frame.getBoundingClientRect();
      var top = most(r);
      z.s = Math.min(top, Math.max(1, z.s));
      z.x = Math.min(0, Math.max(r.width * (1 - z.s), z.x));
      z.y = Math.min(0, Math.max(r.height * (1 - z.s), z.y));
      frame.style.setProperty("--z", String(z.s));
      frame.style.setProperty("--tx", z.x + "px");
      frame.style.setProperty("--ty", z.y + "px");
      zin.disabled = z.s >= top - 1e-6;
      out.disabled = reset.disabled = z.s <= 1 + 1e-6;
      confine(r);
      each(frame.querySelectorAll("img, source"), function (el) {
        if (z.on && !el.hasAttribute("data-sizes")) {
          el.setAttribute("data-sizes", el.getAttribute("sizes"));
          el.setAttribute("sizes", Math.ceil(fitted(r).w * top) + "px");
        }
      });
    }

    function zoomAt(factor, clientX, clientY) {
      var r = frame.getBoundingClientRect();
      var cx = clientX - r.left;
      var cy = clientY - r.top;
      var s = Math.min(most(r), Math.max(1, z.s * factor));
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
      var drag = frame.querySelector(".drag-hint");
      if (drag) {
        drag.parentNode.removeChild(drag);
      }
      z = { on: on, s: 1, x: 0, y: 0 };
      frame.classList.toggle("zoomed", on);
      open.textContent = on ? "Close" : "Zoom";
      open.setAttribute("aria-label", on ? "Close zoom" : "Zoom: full screen");
      if (on && frame.requestFullscreen) {
        frame.requestFullscreen().catch(function () {});
      } else if (!on && document.fullscreenElement === frame) {
        document.exitFullscreen().catch(function () {});
      }
      apply();
      range.focus();
    }

    open.hidden = false;
    open.addEventListener("click", function () {
      toggle(!z.on);
    });
    zin.addEventListener("click", function () {
      var c = centre();
      zoomAt(STEP, c[0], c[1]);
    });
    out.addEventListener("click", function () {
      var c = centre();
      zoomAt(1 / STEP, c[0], c[1]);
    });
    reset.addEventListener("click", function () {
      z.s = 1;
      apply();
    });
    document.addEventListener("fullscreenchange", function () {
      if (z.on && !document.fullscreenElement) {
        toggle(false);
      }
    });
    window.addEventListener("resize", function () {
      if (z.on) {
        apply();
      }
    });
    /* One wheel notch is one step; a touchpad's small deltas make part of one. */
    frame.addEventListener("wheel", function (event) {
      if (z.on) {
        event.preventDefault();
        var notches = event.deltaY / (event.deltaMode ? 3 : 100);
        zoomAt(Math.pow(STEP, -Math.max(-1, Math.min(1, notches))), event.clientX, event.clientY);
      }
    }, { passive: false });
    frame.addEventListener("keydown", function (event) {
      if (!z.on) {
        return;
      }
      var c = centre();
      if (event.key === "+" || event.key === "=") {
        zoomAt(STEP, c[0], c[1]);
      } else if (event.key === "-" || event.key === "_") {
        zoomAt(1 / STEP, c[0], c[1]);
      } else if (event.key === "0") {
        z.s = 1;
        apply();
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
      var e = edges();
      var divider = e[0] + ((e[1] - e[0]) * Number(range.value)) / 100;
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
        var p = pointers[ids[0]];
        var q = pointers[ids[1]];
        var d = Math.hypot(p[0] - q[0], p[1] - q[1]);
        if (last) {
          zoomAt(d / last, (p[0] + q[0]) / 2, (p[1] + q[1]) / 2);
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
