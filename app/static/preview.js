// A Markdown preview, shared by the reply box (compose.js) and the course editor (editor.js): the
// server renders and sanitises the text as the page will show it; an empty text shows the form's
// data-label-empty. The forms post the same way without any of these files.
"use strict";

// Shows `text`'s rendering in `shown` (hiding `text`); false when the server refused it, so the
// caller goes back to writing. A network error is thrown.
async function showMarkdownPreview(form, text, shown) {
  const body = new FormData();
  body.append("text", text.value);
  const csrf = form.querySelector("input[name=csrf_token]");
  const response = await fetch(form.dataset.markdownUrl, {
    method: "POST", body, credentials: "same-origin", headers: {"X-CSRF-Token": csrf ? csrf.value : ""},
  });
  if (!response.ok) return false;
  const html = (await response.json()).html;
  // the server renders and sanitizes it, as it does for every reply in the thread
  shown.innerHTML = html.trim() ? html : "";
  if (!html.trim()) {
    const empty = document.createElement("p");
    empty.className = "muted";
    empty.textContent = form.dataset.labelEmpty;
    shown.append(empty);
  }
  shown.style.minHeight = text.offsetHeight + "px";
  text.hidden = true;
  shown.hidden = false;
  return true;
}
