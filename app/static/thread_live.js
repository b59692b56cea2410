// Others' new replies on a homework page, and new posts on a course page, without a reload.
// The server renders each reply for this reader (app/web/thread_events.py); this file only
// places the HTML. While the reader is elsewhere in the list or typing, new replies wait behind
// an "N new replies" button instead of moving the page; on an earlier page of a long homework
// thread the button leads to the page that shows them.
"use strict";

{
if (!window.campThreadLive) {
window.campThreadLive = true;

function isReading(list, prepend) {
  const box = document.getElementById(list.dataset.draft);
  if (box && (document.activeElement === box || box.value.trim())) return true;
  const rect = list.getBoundingClientRect();
  // the end of a thread (or the top of the newest-first posts) is out of sight
  return prepend ? rect.top < -40 : rect.bottom > window.innerHeight + 40;
}

function start(list) {
  const button = document.querySelector("[data-role=" + list.dataset.button + "]");
  if (!button || !window.EventSource) return;
  const insert = list.dataset.liveMode === "insert";
  const prepend = list.dataset.liveOrder === "prepend";
  const size = Number(list.dataset.pageSize) || 50;
  let waiting = [];  // replies inserted but hidden, or (earlier pages) their floors

  const update = () => {
    button.hidden = waiting.length === 0;
    button.textContent = list.dataset.labelNew.replace("{n}", String(waiting.length));
  };

  const place = (html, key) => {
    if (document.getElementById(list.dataset.idPrefix + key)) return;  // shown already
    if (!insert) {
      waiting.push(key);
      return;
    }
    const holder = document.createElement("template");
    holder.innerHTML = html;
    const reply = holder.content.firstElementChild;
    if (!reply) return;
    const empty = list.querySelector(":scope > li.empty");
    if (empty) empty.remove();
    reply.classList.add("arrived");
    if (waiting.length || isReading(list, prepend)) {
      reply.hidden = true;
      waiting.push(reply);
    }
    if (prepend) {
      list.prepend(reply);  // newest first: each later one above the one before
    } else {
      list.append(reply);
    }
  };

  const source = new EventSource(list.dataset.liveUrl);
  source.addEventListener("replies", (event) => {
    const data = JSON.parse(event.data);
    data.html.forEach((html, i) => place(html, data.keys[i]));
    update();
  });
  source.addEventListener("gone", () => source.close());

  button.addEventListener("click", () => {
    if (!waiting.length) return;
    if (!insert) {
      const floor = waiting[0];
      location.href = "?page=" + (Math.floor((floor - 1) / size) + 1) + "#floor-" + floor;
      return;
    }
    const first = prepend ? waiting[waiting.length - 1] : waiting[0];
    waiting.forEach((reply) => { reply.hidden = false; });
    waiting = [];
    update();
    first.scrollIntoView({ block: "start" });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("ol[data-live-url]").forEach(start);
});
}
}
