// Live grading status: each unfinished submission on the page listens to its event stream
// and updates its chip, score and message in place, without reloading the page.
"use strict";

// One block scope for the whole file: a page that ends up running this script twice (a page
// fetched and written into the document, a cached copy) must not stop on
// "Identifier 'clocks' has already been declared" at the top level.
{
if (!window.campLive) {
window.campLive = true;

function follow(el) {
  const id = el.dataset.submissionId;
  const source = new EventSource("/submissions/" + id + "/events");
  source.onmessage = (event) => {
    const s = JSON.parse(event.data);
    const chip = el.querySelector("[data-role=status]");
    if (chip) {
      chip.textContent = s.status_label;
      chip.className = "chip status-" + (s.status_key || s.status);
    }
    if (s.status === "scored") {
      let score = el.querySelector("[data-role=score]");
      if (!score) {
        score = document.createElement("span");
        score.className = "score";
        score.dataset.role = "score";
        chip.after(score);
      }
      score.textContent = s.score === null ? "" : String(Math.round(s.score * 10000) / 10000);
    }
    const verdict = el.querySelector("[data-role=verdict]");
    if (verdict && s.message) {
      let msg = verdict.querySelector(".message");
      if (!msg) {
        msg = document.createElement("span");
        verdict.prepend(msg);
      }
      msg.className = "message verdict-" + (s.verdict || "");
      msg.textContent = s.message;
    }
    panel(el, s);
    if (s.final) {
      el.dataset.final = "true";
      source.close();
    }
  };
  source.addEventListener("gone", () => source.close());
}

// The live panel under a pending reply: queue position, a running clock, then (for the author)
// the end of the grading log. Labels come translated from the server.
const clocks = new Map();

function panel(el, s) {
  let box = el.querySelector("[data-role=live]");
  if (!box) {
    box = document.createElement("div");
    box.className = "live-panel";
    box.dataset.role = "live";
    box.setAttribute("aria-live", "polite");
    (el.querySelector("[data-role=verdict]") || el).after(box);
  }
  clearInterval(clocks.get(el));
  clocks.delete(el);
  box.replaceChildren();
  if (s.status === "queued" && s.queue_label) {
    const line = document.createElement("span");
    line.dataset.role = "queue";
    line.dataset.ahead = String(s.queue_ahead);
    line.textContent = s.queue_label;
    box.append(line);
  } else if (s.status === "running" && s.running_since) {
    const line = document.createElement("span");
    line.dataset.role = "running";
    const started = Date.parse(s.running_since);
    const tick = () => {
      const seconds = Math.max(0, Math.round((Date.now() - started) / 1000));
      line.textContent = s.running_label.replace("{seconds}", String(seconds));
    };
    tick();
    clocks.set(el, setInterval(tick, 1000));
    box.append(line);
  }
  if (s.final && s.log_tail) {
    const details = document.createElement("details");
    details.dataset.role = "log-tail";
    const summary = document.createElement("summary");
    summary.textContent = s.log_label;
    const pre = document.createElement("pre");
    pre.textContent = s.log_tail;
    details.append(summary, pre);
    box.append(details);
  }
  box.hidden = !box.childElementCount;
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-submission-id][data-final=false]").forEach(follow);
});
}
}
