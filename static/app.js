// Comfort only: every page works without this file.
document.documentElement.classList.add("has-js");

// Copy buttons: <button data-copy="#id"> copies the text of the element #id,
// and says so for a moment in the page's language (data-copied-text).
document.addEventListener("click", async (ev) => {
  const btn = ev.target.closest("[data-copy]");
  if (!btn) return;
  const el = document.querySelector(btn.getAttribute("data-copy"));
  if (!el) return;
  const text = (el.value !== undefined ? el.value : el.textContent).trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    document.execCommand("copy");
  }
  const old = btn.textContent;
  btn.textContent = btn.dataset.copiedText || "Copied";
  btn.setAttribute("data-copied", "true");
  setTimeout(() => { btn.textContent = old; }, 1500);
});

// Confirmation for dangerous buttons: <button data-confirm="Really?">.
document.addEventListener("submit", (ev) => {
  const btn = ev.submitter;
  const msg = btn && btn.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) ev.preventDefault();
});

// Time zone: pages show times in the zone the console_tz cookie names. On
// the first visit the server does not know it yet: the browser's zone is
// remembered for the next pages, and this page's times, written in UTC and
// marked <time data-local datetime="RFC3339">, are rewritten in it in the
// same shape ("2025-11-28 22:55 CET", with seconds when the server showed
// them), the UTC text moving to the tooltip.
const browserZone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
})();
if (browserZone && !document.cookie.split("; ").some((c) => c.startsWith("console_tz="))) {
  document.cookie = "console_tz=" + browserZone + "; path=/; max-age=31536000; samesite=lax";
}
// The "local time" switch links to this page with ?tz=<the browser's zone>.
for (const a of document.querySelectorAll("a[data-tz-local]")) {
  if (!browserZone) continue;
  const u = new URL(a.href, location.href);
  u.searchParams.set("tz", browserZone);
  a.href = u.pathname + u.search;
  a.hidden = false;
}
{
  const pad = (n) => String(n).padStart(2, "0");
  const zoneName = (d) => {
    try {
      const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
      if (part) return part.value;
    } catch { /* fall through */ }
    const off = -d.getTimezoneOffset();
    return "UTC" + (off < 0 ? "-" : "+") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
  };
  for (const t of document.querySelectorAll("time[data-local]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (isNaN(d)) continue;
    const utc = t.textContent.trim();
    let text = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (/\d:\d\d:\d\d/.test(utc)) text += ":" + pad(d.getSeconds());
    const zone = zoneName(d);
    if (t.classList.contains("when-stack")) {
      const [date, clock] = text.split(" ");
      const line = (s) => Object.assign(document.createElement("span"), { textContent: s });
      t.replaceChildren(line(date), " ", line(clock + " " + zone));
    } else {
      t.textContent = text + " " + zone;
    }
    if (!t.title) t.title = utc;
  }
}

// Filter-as-you-type for tables: <input data-filter="#table-id">.
for (const input of document.querySelectorAll("input[data-filter]")) {
  const table = document.querySelector(input.getAttribute("data-filter"));
  if (!table) continue;
  input.addEventListener("input", () => {
    const q = input.value.toLowerCase();
    for (const row of table.tBodies[0].rows) {
      row.hidden = q !== "" && !row.textContent.toLowerCase().includes(q);
    }
  });
}

// The menu button of small screens shows and hides the navigation.
for (const btn of document.querySelectorAll("[data-testid=nav-toggle]")) {
  btn.addEventListener("click", () => {
    const open = btn.closest(".topbar").classList.toggle("open");
    btn.setAttribute("aria-expanded", String(open));
  });
}

// Tables in a .table-wrap become stacked cards on small screens (app.css):
// each cell is labelled with its column's header. The roles keep them
// tables for screen readers when CSS lays them out as blocks.
for (const table of document.querySelectorAll(".table-wrap > table")) {
  const heads = table.tHead ? [...table.tHead.rows[0].cells].map((th) => (th.dataset.cardLabel ?? th.textContent).trim()) : [];
  table.setAttribute("role", "table");
  for (const group of [table.tHead, ...table.tBodies]) group?.setAttribute("role", "rowgroup");
  for (const row of table.rows) {
    row.setAttribute("role", "row");
    [...row.cells].forEach((cell, i) => {
      if (cell.tagName === "TH") {
        cell.setAttribute("role", "columnheader");
      } else {
        cell.setAttribute("role", "cell");
        cell.dataset.label = heads[i] ?? "";
      }
    });
  }
}

// Forms whose fields depend on a project: <select data-project-select="/issue">
// fetches the form the server renders for the chosen project and swaps in
// its [data-project-part] blocks (presets, policy, privileges), keeping what
// was typed or chosen there. Without JavaScript a "Show this project's options"
// button asks the server for the same form.
for (const select of document.querySelectorAll("select[data-project-select]")) {
  const form = select.form;
  select.addEventListener("change", async () => {
    const url = select.dataset.projectSelect + "?" + new URLSearchParams({ app_id: select.value });
    let doc;
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!res.ok) return; // the server checks the choice again on submit
      doc = new DOMParser().parseFromString(await res.text(), "text/html");
    } catch {
      return;
    }
    if (select.value !== new URLSearchParams(url.split("?")[1]).get("app_id")) return; // chosen again since
    for (const part of form.querySelectorAll("[data-project-part]")) {
      const fresh = doc.querySelector(`[data-project-part="${part.dataset.projectPart}"]`);
      if (!fresh || part.dataset.appId === fresh.dataset.appId) continue;
      const next = document.importNode(fresh, true);
      const typed = part.querySelector("input[name=ttl_custom]");
      if (typed) next.querySelector("input[name=ttl_custom]").value = typed.value;
      const login = part.querySelector("input[name=login]");
      if (login) next.querySelector("input[name=login]").checked = login.checked;
      const preset = part.querySelector("select[name=ttl]")?.value;
      const offered = next.querySelector("select[name=ttl]");
      if (offered && [...offered.options].some((o) => o.value === preset)) offered.value = preset;
      part.replaceWith(next);
    }
  });
}

// Fields with an error: marked invalid and described by their message, so
// that screen readers say both (app.css outlines them with or without this).
document.querySelectorAll(".field-error").forEach((msg, i) => {
  const field = msg.closest("label, fieldset")?.querySelector("input:not([type=hidden]), select, textarea");
  if (!field) return;
  msg.id ||= "field-error-" + i;
  field.setAttribute("aria-invalid", "true");
  field.setAttribute("aria-describedby", msg.id);
});
