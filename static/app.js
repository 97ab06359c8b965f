// Comfort only: every page works without this file.
document.documentElement.classList.add("has-js");

// Copy buttons: <button data-copy="#id"> copies the text of the element #id.
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
  btn.textContent = "Copied";
  btn.setAttribute("data-copied", "true");
  setTimeout(() => { btn.textContent = old; }, 1500);
});

// Confirmation for dangerous buttons: <button data-confirm="Really?">.
document.addEventListener("submit", (ev) => {
  const btn = ev.submitter;
  const msg = btn && btn.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) ev.preventDefault();
});

// Local times: <time data-local datetime="RFC3339"> shows the viewer's local time.
for (const t of document.querySelectorAll("time[data-local]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d)) t.textContent = d.toLocaleString();
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
