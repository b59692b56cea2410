// The reply box, progressively enhanced (the form posts the same way without this file):
// 1. a Write / Preview switch that shows the answer rendered as the thread will show it;
// 2. a drop zone for files (added to the form's file input), and a progress bar while the
//    reply and its files upload.
// The preview itself is preview.js, shared with the course editor.
// Labels come from the form's data-label-* attributes, already in the reader's language.
"use strict";

function setupMarkdownPreview(form) {
  const text = form.querySelector("textarea[name=text]");
  if (!text || !form.dataset.markdownUrl) return;
  const tabs = document.createElement("div");
  tabs.className = "compose-tabs";
  tabs.setAttribute("role", "group");
  const write = document.createElement("button");
  const preview = document.createElement("button");
  for (const [button, label, pressed] of [[write, form.dataset.labelWrite, "true"],
                                          [preview, form.dataset.labelPreview, "false"]]) {
    button.type = "button";
    button.className = "tab";
    button.textContent = label;
    button.setAttribute("aria-pressed", pressed);
    tabs.append(button);
  }
  write.dataset.role = "write";
  preview.dataset.role = "md-preview-tab";
  const shown = document.createElement("div");
  shown.className = "text md md-preview";
  shown.dataset.role = "md-preview";
  shown.hidden = true;
  text.before(tabs);
  text.after(shown);

  const showWrite = () => {
    shown.hidden = true;
    text.hidden = false;
    write.setAttribute("aria-pressed", "true");
    preview.setAttribute("aria-pressed", "false");
    text.focus();
  };
  const showPreview = async () => {
    write.setAttribute("aria-pressed", "false");
    preview.setAttribute("aria-pressed", "true");
    try {
      if (!(await showMarkdownPreview(form, text, shown))) showWrite();
    } catch (error) {
      showWrite();
    }
  };
  write.addEventListener("click", showWrite);
  preview.addEventListener("click", showPreview);
}

function setupUpload(form) {
  const input = form.querySelector("input[type=file]");
  if (!input) return;
  const zone = document.createElement("div");
  zone.className = "drop-zone";
  zone.dataset.role = "drop-zone";
  zone.textContent = form.dataset.labelDrop;
  input.before(zone);
  const stop = (event) => { event.preventDefault(); event.stopPropagation(); };
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => { stop(event); zone.classList.add("over"); });
  }
  zone.addEventListener("dragleave", (event) => { stop(event); zone.classList.remove("over"); });
  zone.addEventListener("drop", (event) => {
    stop(event);
    zone.classList.remove("over");
    const dropped = event.dataTransfer ? event.dataTransfer.files : [];
    if (!dropped.length) return;
    const all = new DataTransfer();
    for (const file of input.files) all.items.add(file);
    for (const file of dropped) all.items.add(file);
    input.files = all.files;
    input.dispatchEvent(new Event("change", {bubbles: true}));
  });

  const bar = document.createElement("div");
  bar.className = "upload-progress";
  bar.dataset.role = "upload";
  bar.hidden = true;
  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  const label = document.createElement("span");
  label.setAttribute("role", "status");
  bar.append(progress, label);
  form.querySelector("button[type=submit]").before(bar);

  form.addEventListener("submit", (event) => {
    if (!input.files.length || !window.XMLHttpRequest) return;  // nothing to show: post as usual
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    bar.hidden = false;
    const show = (percent) => {
      progress.value = percent;
      label.textContent = form.dataset.labelUploading.replace("{percent}", String(percent));
    };
    show(0);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "text/html");  // a refusal comes back as the page, with its reason
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) show(Math.round((e.loaded / e.total) * 100));
    });
    xhr.addEventListener("load", () => {
      show(100);
      if (xhr.status < 400 && xhr.responseURL) {
        window.location.assign(xhr.responseURL);
        return;
      }
      // Refused: say why inside this form, which keeps the text and the chosen files.
      submit.disabled = false;
      bar.hidden = true;
      showFormError(form, refusalText(form, xhr));
    });
    xhr.addEventListener("error", () => {
      submit.disabled = false;
      label.textContent = form.dataset.labelFailed;
    });
    xhr.send(new FormData(form));
  });
}

// The reason a post was refused: a JSON answer's detail (the size cap answers before any page
// exists), or the message of the page the server rendered; its new form token is taken over.
function refusalText(form, xhr) {
  const type = xhr.getResponseHeader("content-type") || "";
  if (type.includes("json")) {
    try {
      return JSON.parse(xhr.responseText).detail || form.dataset.labelFailed;
    } catch (error) {
      return form.dataset.labelFailed;
    }
  }
  const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
  const sent = page.querySelector(`form[action="${form.getAttribute("action")}"]`);
  const token = sent && sent.querySelector("input[name=idempotency_key]");
  const mine = form.querySelector("input[name=idempotency_key]");
  if (token && mine) mine.value = token.value;
  const message = (sent && sent.querySelector(".error")) || page.querySelector(".error, main p");
  return message ? message.textContent.trim() : form.dataset.labelFailed;
}

function showFormError(form, text) {
  let box = form.querySelector("[data-role=form-error]") || form.querySelector(".error");
  if (!box) {
    box = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    form.prepend(box);
  }
  box.dataset.role = "form-error";
  box.textContent = text;
  box.scrollIntoView({block: "nearest"});
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-markdown-url]").forEach((form) => {
    setupMarkdownPreview(form);
    setupUpload(form);
  });
});
