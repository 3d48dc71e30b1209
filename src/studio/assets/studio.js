// beforeafter studio: the board's filters, adding a new case's photos, the details form, and
// "Update the gallery now". Every change is sent with the token in a header (never in a form a
// page elsewhere could post), and every answer is said in words in a status line.
(() => {
  "use strict";
  const token = document.body.dataset.token;
  const $ = (id) => document.getElementById(id);

  async function send(path, body, type) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "X-Review-Token": token, "Content-Type": type || "application/json" },
      body,
    });
    let answer;
    try { answer = await r.json(); } catch (e) { answer = {}; }
    if (!r.ok && !answer.error) {
      answer.error = r.status === 413 ? "too large" : "refused (" + r.status + ")";
    }
    answer.status = r.status;
    return answer;
  }

  // "Update the gallery now", on every page; the status line follows the watch.
  const runStatus = $("run-status");
  let lastRounds = null;
  let timer = 0;
  const soon = (ms) => { clearTimeout(timer); timer = setTimeout(poll, ms); };
  async function poll() {
    try {
      const r = await fetch("/api/status?t=" + token, { cache: "no-store" });
      const s = await r.json();
      runStatus.textContent = s.sentence;
      document.body.dataset.rounds = s.rounds;
      document.body.dataset.running = s.running;
      if (lastRounds !== null && s.rounds !== lastRounds) document.dispatchEvent(new Event("gallery-updated"));
      lastRounds = s.rounds;
    } catch (e) { /* the studio was stopped: say nothing new */ }
    soon(document.body.dataset.running === "true" ? 300 : 1500);
  }
  poll();
  $("run-now").addEventListener("click", async () => {
    runStatus.textContent = "Updating the gallery\u2026";
    const a = await send("/api/run", "{}");
    if (a.error) runStatus.textContent = a.error;
    else soon(300);
  });

  const page = document.body.dataset.page;
  if (page === "board") board();
  if (page === "new") newCase();
  if (page === "details") details();
  if (page === "preview") {
    // The page shown is the gallery's file: after a round, show the new one.
    document.addEventListener("gallery-updated", () => {
      const f = $("page");
      if (f) f.contentWindow.location.reload(); else location.reload();
    });
  }

  function board() {
    const cards = [...document.querySelectorAll(".card")];
    const q = $("q"), st = $("f-state"), tr = $("f-treatment"), tg = $("f-tag");
    const need = ["consent", "held", "failed"];
    function apply() {
      const words = q.value.trim().toLowerCase();
      let n = 0;
      for (const c of cards) {
        const d = c.dataset;
        const show = (!words || d.text.toLowerCase().includes(words)) &&
          (!st.value || d.state === st.value || (st.value === "need" && need.includes(d.state))) &&
          (!tr.value || d.treatment === tr.value) &&
          (!tg.value || d.tags.split("|").includes(tg.value));
        c.hidden = !show;
        if (show) n++;
      }
      const filtered = words || st.value || tr.value || tg.value;
      $("shown").textContent = filtered ? n + " of " + cards.length + " cases shown" : "";
    }
    for (const el of [q, st, tr, tg]) el.addEventListener("input", apply);
    apply();
  }

  function newCase() {
    const drop = $("drop"), input = $("files"), list = $("photos"), refusedList = $("refused");
    let batch = "";
    let proposal = { photos: [], notes: [] };
    const stages = ["before", "session-1", "session-2", "session-3", "session-4", "session-5", "session-6", "after"];
    const stageWords = (s) => s === "before" ? "Before" : s === "after" ? "After" :
      s.startsWith("session-") ? "Session " + s.slice(8) : s === "leave-out" ? "Leave this photo out" : "Choose\u2026";
    const views = ["main", "front", "top", "crown", "left", "right", "back", "hairline"];
    const viewWords = (v) => v === "main" ? "One view only" : v.charAt(0).toUpperCase() + v.slice(1).replace(/[-_]/g, " ");

    function refuse(text) {
      const li = document.createElement("li");
      li.textContent = text;
      refusedList.append(li);
    }
    async function add(files) {
      const progress = $("progress");
      let i = 0;
      for (const f of files) {
        i++;
        progress.textContent = "Checking photo " + i + " of " + files.length + ": " + f.name + "\u2026";
        const url = "/api/upload?name=" + encodeURIComponent(f.name) + (batch ? "&batch=" + batch : "");
        const a = await send(url, f, "application/octet-stream");
        if (a.error) {
          refuse(a.error === "too large"
            ? "\u201c" + f.name + "\u201d is too large: the largest photo the clinic accepts is " + drop.dataset.maxMb + " MB."
            : a.error);
          continue;
        }
        batch = a.batch;
        proposal = a.proposal;
      }
      progress.textContent = proposal.photos.length + " photo" + (proposal.photos.length === 1 ? "" : "s") + " ready to check.";
      show();
    }
    function select(label, options, value, words) {
      const l = document.createElement("label");
      l.append(label);
      const s = document.createElement("select");
      for (const o of options) {
        const opt = document.createElement("option");
        opt.value = o;
        opt.textContent = words(o);
        s.append(opt);
      }
      s.value = value;
      l.append(s);
      return [l, s];
    }
    function show() {
      $("check").hidden = proposal.photos.length === 0;
      list.replaceChildren();
      const notes = $("notes");
      notes.replaceChildren(...proposal.notes.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
      for (const p of proposal.photos) {
        const li = document.createElement("li");
        li.dataset.file = p.file;
        const img = document.createElement("img");
        img.src = p.thumb;
        img.alt = "";
        const box = document.createElement("div");
        const name = document.createElement("strong");
        name.textContent = p.file;
        box.append(name);
        const stageOptions = (p.stage ? [] : [""]).concat(stages, ["leave-out"]);
        const [sl, ss] = select("Stage", stageOptions, p.stage, stageWords);
        ss.className = "stage";
        const vs = views.includes(p.view) ? views : views.concat([p.view]);
        const [vl, vsel] = select("View", vs, p.view, viewWords);
        vsel.className = "view";
        box.append(sl, vl);
        if (p.note) {
          const n = document.createElement("p");
          n.className = "hint";
          n.textContent = "Please choose its stage: the studio could not tell from its name or the time it was taken.";
          box.append(n);
        }
        li.append(img, box);
        list.append(li);
      }
    }
    input.addEventListener("change", () => { add([...input.files]); input.value = ""; });
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      add([...e.dataTransfer.files]);
    });
    $("save").addEventListener("click", async () => {
      const photos = [...list.children].map((li) => ({
        file: li.dataset.file,
        stage: li.querySelector("select.stage").value,
        view: li.querySelector("select.view").value,
      }));
      const a = await send("/api/new-case", JSON.stringify({ batch, folder: $("folder").value, photos }));
      if (a.error) { $("saved").textContent = "Not saved: " + a.error; return; }
      $("saved").textContent = "Saved as " + a.folder + ". Opening its details\u2026";
      location.href = a.details;
    });
  }

  function details() {
    const form = $("details");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = (id) => $(id).value;
      const c = (id) => $(id).checked;
      const body = {
        case: form.dataset.case, stamp: form.dataset.stamp,
        title: v("title"), treatment: v("treatment"), sessions: v("sessions"), tags: v("tags"),
        notes: v("notes"), credit: v("credit"), order: v("order"), featured: c("featured"),
        website: c("website"), social: c("social"),
        signed: v("signed"), expires: v("expires"), withdrawn: v("withdrawn"),
      };
      const answer = $("answer");
      answer.textContent = "Saving\u2026";
      const a = await send("/api/details", JSON.stringify(body));
      if (a.error) { answer.textContent = a.error; form.dataset.refused = a.status; return; }
      form.dataset.stamp = a.stamp;
      form.dataset.saved = (Number(form.dataset.saved || 0) + 1).toString();
      answer.textContent = a.message;
    });
  }
})();
