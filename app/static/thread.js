// The homework thread, progressively enhanced (every form also works without this file):
// 1. reply forms with data-preview-url show where each 作业X-Y part will go as the student types;
// 2. like buttons like/unlike in place, showing a refusal (own reply, closed) next to the button.
// Labels come from the page (data-label-*) or the API, already in the reader's language.
"use strict";

function csrfOf(form) {
  const input = form.querySelector("input[name=csrf_token]");
  return input ? input.value : "";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

function renderPreview(box, data) {
  const labels = box.dataset;
  box.replaceChildren(el("p", "preview-title", labels.labelTitle));
  if (data.parts.length === 0) {
    box.append(el("p", "muted", labels.labelNothing));
  } else {
    const list = el("ul", "route-parts");
    for (const part of data.parts) {
      const item = el("li", "route-part state-" + part.state);
      item.append(el("strong", "", labels.labelHomework + " " + part.assignment + " · " + part.title), " ");
      item.append(el("span", "chip", part.state_label), " ");
      if (part.note) item.append(el("span", "note", part.note), " ");
      if (part.files.length) item.append(el("span", "files", labels.labelFiles + ": " + part.files.join(", ")), " ");
      if (part.quota) item.append(el("span", "quota", fill(labels.labelQuota, part.quota)));
      list.append(item);
    }
    box.append(list);
  }
  if (data.unrouted) {
    const text = data.unrouted.length > 160 ? data.unrouted.slice(0, 157) + "..." : data.unrouted;
    box.append(el("p", "route-unrouted", labels.labelUnrouted + ": " + text));
  }
  for (const notice of data.notices) box.append(el("p", "notice-line", notice));
}

function setupPreview(form) {
  const box = form.querySelector("[data-role=preview]");
  const text = form.querySelector("textarea[name=text]");
  const files = form.querySelector("input[type=file]");
  if (!box || !text) return;
  let timer = null;
  let latest = 0;
  const run = async () => {
    const body = new FormData();
    body.append("text", text.value);
    if (files) for (const file of files.files) body.append("filenames", file.name);
    if (form.dataset.code) body.append("code", form.dataset.code);
    const ticket = ++latest;
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST", body, credentials: "same-origin", headers: {"X-CSRF-Token": csrfOf(form)},
      });
      if (response.ok && ticket === latest) renderPreview(box, await response.json());
    } catch (error) {
      // the preview is a help, never a blocker: posting still works
    }
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(run, 350); };
  // The no-JavaScript "Preview" submits the form and loses the chosen files; here it only shows
  // the preview the box already keeps up to date, and the files stay chosen.
  const previewButton = form.querySelector("button[name=action][value=preview]");
  if (previewButton) {
    previewButton.addEventListener("click", async (event) => {
      event.preventDefault();
      clearTimeout(timer);
      await run();
      box.scrollIntoView({block: "nearest"});
    });
  }
  text.addEventListener("input", soon);
  if (files) files.addEventListener("change", soon);
  if (text.value.trim()) soon();
}

function setupLike(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = form.querySelector("input[name=action]");
    const button = form.querySelector("button");
    const count = form.querySelector("[data-role=likes]");
    const problem = form.querySelector("[data-role=like-error]");
    const liking = action.value === "like";
    button.disabled = true;
    try {
      const response = await fetch("/api/v1/submissions/" + form.dataset.submissionId + "/like", {
        method: liking ? "POST" : "DELETE", credentials: "same-origin",
        headers: {"X-CSRF-Token": csrfOf(form)},
      });
      const data = await response.json();
      if (response.ok) {
        count.textContent = String(data.likes);
        action.value = liking ? "unlike" : "like";
        button.classList.toggle("liked", liking);
        button.setAttribute("aria-pressed", liking ? "true" : "false");
        if (problem) problem.textContent = "";
      } else if (problem) {
        problem.textContent = data.detail || "";
      }
    } finally {
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-preview-url]").forEach(setupPreview);
  document.querySelectorAll("form.like-form").forEach(setupLike);
});
