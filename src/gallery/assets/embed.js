/* beforeafter embed.js: the gallery's slider or its index inside another site's page (WordPress,
   Squarespace, Wix). Paste
     <div data-beforeafter-case="CASE-ID"></div>      (one case's slider) or
     <div data-beforeafter-index></div>                (the index's cards)
     <script src="https://clinic.example/gallery/embed.js" async></script>
   Each box gets a Shadow DOM of its own: the site's styles do not reach inside and ours do not
   reach out. Everything it loads (this script, the photos) comes from the gallery's own address,
   the folder this script is in; the cases are written into this file by each run, so a withdrawn
   case is gone from it with the run that withdrew it, and its box stays empty. */
(function () {
  "use strict";
  var DATA = __BEFOREAFTER_DATA__;
  var me = document.currentScript;
  var base = new URL(".", (me && me.src) || ownSrc()).href;

  function ownSrc() {
    var all = document.querySelectorAll("script[src]");
    for (var i = 0; i < all.length; i++) {
      if (/\/embed\.js(\?|#|$)/.test(all[i].src)) return all[i].src;
    }
    return location.href;
  }

  var CSS =
    ":host{display:block}" +
    ".ba{all:initial;display:block;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
    "color:#1d1d1f;text-align:left;direction:ltr}" +
    ".ba *,.ba *::before,.ba *::after{box-sizing:border-box}figure{margin:0}" +
    ".frame{position:relative;overflow:hidden;width:100%;background:#e9e9e9;border-radius:6px;" +
    "touch-action:pan-y;cursor:ew-resize;user-select:none;-webkit-user-select:none}" +
    ".frame picture{display:contents}" +
    ".frame img{position:absolute;inset:0;display:block;width:100%;height:100%;max-width:none;" +
    "margin:0;padding:0;border:0;object-fit:cover;pointer-events:none}" +
    ".frame .right{clip-path:inset(0 0 0 calc(var(--pos) * 1%))}" +
    ".handle{position:absolute;top:0;bottom:0;left:calc(var(--pos) * 1%);width:2px;margin-left:-1px;" +
    "background:#fff;box-shadow:0 0 0 1px rgba(0,0,0,.35);pointer-events:none}" +
    ".handle::after{content:'';position:absolute;top:50%;left:50%;width:2.4em;height:2.4em;" +
    "margin:-1.2em 0 0 -1.2em;border-radius:50%;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.45)}" +
    ".reveal{position:absolute;left:0;bottom:0;width:100%;height:1px;margin:0;padding:0;border:0;" +
    "opacity:0;pointer-events:none}" +
    ".reveal:focus-visible+.handle::after{outline:3px solid #0b57d0;outline-offset:2px}" +
    ".tag{position:absolute;top:.5em;padding:.1em .5em;border-radius:3px;background:rgba(0,0,0,.62);" +
    "color:#fff;font-size:.8em;letter-spacing:.04em;pointer-events:none}" +
    ".tag.left{left:.5em}.tag.right{right:.5em}" +
    ".title{margin:.6em 0 .15em;font-size:1.05em;font-weight:600;line-height:1.3}" +
    ".note{margin:.15em 0;font-size:.85em;color:#4a4a4a}" +
    "a{color:#0b57d0;text-decoration:underline}a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}" +
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,14em),1fr));gap:1.25em;" +
    "margin:0;padding:0;list-style:none}" +
    ".card a{display:block;color:inherit;text-decoration:none}" +
    ".card .frame{cursor:pointer}" +
    ".card:hover .title{text-decoration:underline}" +
    ".more{margin:1em 0 0}";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  /* A srcset of paths relative to `from`, made absolute. */
  function srcset(list, from) {
    return list
      .split(", ")
      .map(function (item) {
        var parts = item.split(" ");
        return new URL(parts[0], from).href + " " + parts[1];
      })
      .join(", ");
  }

  function picture(p, alt, cls, from, lazy) {
    var pic = el("picture");
    p.sources.forEach(function (s) {
      var source = el("source");
      source.type = s.type;
      source.srcset = srcset(s.srcset, from);
      source.sizes = p.sizes;
      pic.appendChild(source);
    });
    var img = el("img", cls);
    img.src = new URL(p.src, from).href;
    img.srcset = srcset(p.srcset, from);
    img.sizes = p.sizes;
    img.width = p.width;
    img.height = p.height;
    img.alt = alt;
    img.decoding = "async";
    if (lazy) img.loading = "lazy";
    pic.appendChild(img);
    return pic;
  }

  function frame(p) {
    var f = el("div", "frame");
    f.style.aspectRatio = p.width + " / " + p.height;
    f.style.setProperty("--pos", DATA.start);
    return f;
  }

  /* One case's before/after slider: a range input (keys: arrows, Page Up/Down, Home, End) and
     pointer drags on the photo both move the divider. */
  function slider(c) {
    var page = new URL(c.page, base);
    var a = c.pair[0], b = c.pair[1];
    var box = el("figure", "case");
    var f = frame(a.picture);
    f.appendChild(picture(a.picture, a.alt, "left", page, false));
    f.appendChild(picture(b.picture, b.alt, "right", page, false));
    var input = el("input", "reveal");
    input.type = "range";
    input.min = "0";
    input.max = "100";
    input.step = "1";
    input.value = String(DATA.start);
    input.setAttribute("aria-label", c.divider);
    f.appendChild(input);
    f.appendChild(el("span", "handle"));
    f.appendChild(el("span", "tag left", a.tag));
    f.appendChild(el("span", "tag right", b.tag));
    function show() {
      var v = Number(input.value);
      f.style.setProperty("--pos", v);
      input.setAttribute("aria-valuetext", a.name + " " + v + "%, " + b.name + " " + (100 - v) + "%");
    }
    input.addEventListener("input", show);
    function drag(ev) {
      var r = f.getBoundingClientRect();
      var v = Math.round(((ev.clientX - r.left) / r.width) * 100);
      input.value = String(Math.max(0, Math.min(100, v)));
      show();
    }
    f.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) return;
      ev.preventDefault();
      f.setPointerCapture(ev.pointerId);
      input.focus({ preventScroll: true });
      drag(ev);
      f.addEventListener("pointermove", drag);
    });
    function release() {
      f.removeEventListener("pointermove", drag);
    }
    f.addEventListener("pointerup", release);
    f.addEventListener("pointercancel", release);
    show();
    box.appendChild(f);
    var cap = el("figcaption");
    var title = el("p", "title");
    var link = el("a", "", c.title);
    link.href = page.href;
    title.appendChild(link);
    cap.appendChild(title);
    if (c.treatment) cap.appendChild(el("p", "note", c.treatment));
    cap.appendChild(el("p", "note", c.honesty));
    box.appendChild(cap);
    return box;
  }

  /* The index's first cards, each a link to its case page in the gallery. */
  function index() {
    var box = el("div");
    var list = el("ul", "grid");
    DATA.cards.forEach(function (c) {
      var li = el("li", "card");
      var link = el("a");
      link.href = new URL(c.page, base).href;
      if (c.thumb) {
        var f = frame(c.thumb);
        f.appendChild(picture(c.thumb, c.alt, "", base, true));
        f.appendChild(el("span", "tag left", c.labels[0]));
        f.appendChild(el("span", "tag right", c.labels[1]));
        link.appendChild(f);
      }
      link.appendChild(el("p", "title", c.title));
      if (c.treatment) link.appendChild(el("p", "note", c.treatment));
      li.appendChild(link);
      list.appendChild(li);
    });
    box.appendChild(list);
    var more = el("p", "more");
    var all = el("a", "", "See all cases");
    all.href = new URL("index.html", base).href;
    more.appendChild(all);
    box.appendChild(more);
    return box;
  }

  function mount(host, content) {
    var root = host.attachShadow({ mode: "open" });
    var style = el("style");
    style.textContent = CSS;
    root.appendChild(style);
    var wrap = el("div", "ba");
    wrap.appendChild(content);
    root.appendChild(wrap);
  }

  function scan() {
    var hosts = document.querySelectorAll("[data-beforeafter-case],[data-beforeafter-index]");
    for (var i = 0; i < hosts.length; i++) {
      var host = hosts[i];
      if (host.shadowRoot || host.hasAttribute("data-beforeafter-shown")) continue;
      host.setAttribute("data-beforeafter-shown", "");
      var id = host.getAttribute("data-beforeafter-case");
      if (id === null) {
        mount(host, index());
        continue;
      }
      var c = DATA.cases[id];
      /* Not published (withdrawn, kept back, or a mistyped id): the box stays empty. */
      if (c) mount(host, slider(c));
    }
  }

  scan();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
})();
