// The course editor's homework text: a Preview button that shows the Markdown as the homework
// page will show it, rendered and sanitised by the server (preview.js; the form itself is not
// submitted).
// Labels come from the form's data-label-* attributes, already in the reader's language.
"use strict";

function setupBodyPreview(form) {
  const body = form.querySelector("textarea[name=body]");
  const button = form.querySelector("[data-role=preview-body]");
  const shown = form.querySelector("[data-role=body-preview]");
  if (!body || !button || !shown || !form.dataset.markdownUrl) return;
  let previewing = false;
  const write = () => {
    previewing = false;
    shown.hidden = true;
    body.hidden = false;
    button.textContent = form.dataset.labelPreview;
    button.setAttribute("aria-pressed", "false");
  };
  button.hidden = false;
  button.setAttribute("aria-pressed", "false");
  button.addEventListener("click", async () => {
    if (previewing) return write();
    try {
      if (!(await showMarkdownPreview(form, body, shown))) return write();
      previewing = true;
      button.textContent = form.dataset.labelWrite;
      button.setAttribute("aria-pressed", "true");
    } catch (error) {
      write();
    }
  });
}

document.querySelectorAll("form[data-role=homework-form]").forEach(setupBodyPreview);
