// Others' new replies on a homework page, without a reload. The server renders each reply for
// this reader (app/web/thread_events.py); this file only places the HTML. While the reader is
// somewhere in the middle of the thread or typing a reply, new replies wait behind an
// "N new replies" button instead of moving the page; on an earlier page of the thread the
// button leads to the page that shows them.
"use strict";

{
if (!window.campThreadLive) {
window.campThreadLive = true;

function isReading(list) {
  const box = document.getElementById("text");
  if (box && (document.activeElement === box || box.value.trim())) return true;
  return list.getBoundingClientRect().bottom > window.innerHeight + 40;
}

function start(list) {
  const button = document.querySelector("[data-role=new-replies]");
  if (!button || !window.EventSource) return;
  const insert = list.dataset.liveMode === "insert";
  const size = Number(list.dataset.pageSize) || 50;
  let waiting = [];  // replies inserted but hidden, or (earlier pages) their floors

  const update = () => {
    button.hidden = waiting.length === 0;
    button.textContent = list.dataset.labelNew.replace("{n}", String(waiting.length));
  };

  const place = (html, floor) => {
    if (document.getElementById("floor-" + floor)) return;  // shown already (one's own, just posted)
    if (!insert) {
      waiting.push(floor);
      return;
    }
    const holder = document.createElement("template");
    holder.innerHTML = html;
    const reply = holder.content.firstElementChild;
    if (!reply) return;
    const empty = list.querySelector(":scope > li.empty");
    if (empty) empty.remove();
    reply.classList.add("arrived");
    if (waiting.length || isReading(list)) {
      reply.hidden = true;
      waiting.push(reply);
    }
    list.append(reply);
  };

  const source = new EventSource(list.dataset.liveUrl);
  source.addEventListener("replies", (event) => {
    const data = JSON.parse(event.data);
    data.html.forEach((html, i) => place(html, data.floors[i]));
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
    const first = waiting[0];
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
