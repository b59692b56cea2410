// Live grading status: each unfinished submission on the page listens to its event stream
// and updates its chip, score and message in place, without reloading the page.
"use strict";

function follow(el) {
  const id = el.dataset.submissionId;
  const source = new EventSource("/submissions/" + id + "/events");
  source.onmessage = (event) => {
    const s = JSON.parse(event.data);
    const chip = el.querySelector("[data-role=status]");
    if (chip) {
      chip.textContent = s.status_label;
      chip.className = "chip status-" + s.status;
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
    if (s.final) {
      el.dataset.final = "true";
      source.close();
    }
  };
  source.addEventListener("gone", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-submission-id][data-final=false]").forEach(follow);
});
