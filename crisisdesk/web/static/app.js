// Small progressive enhancements; the desk works without them. No inline script anywhere (CSP).
"use strict";

document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form?.submit();
  }
});

// Long filter forms fold away on phones (<details data-fold-narrow>) unless a filter is in use, so
// the comments come first; the summary opens them again. Without JS they simply stay open.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(max-width: 720px)").matches) return;
  for (const el of document.querySelectorAll("details[data-fold-narrow]:not([data-active])")) {
    el.open = false;
  }
});

// Copy buttons: <button data-copy="#element-id">.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent || "");
    button.setAttribute("data-copied", "1");
  } catch (_err) {
    const range = document.createRange();
    range.selectNodeContents(source);
    window.getSelection()?.removeAllRanges();
    window.getSelection()?.addRange(range);
  }
});

// Moments: <time datetime="ISO" data-local="datetime|date|time|seconds"> arrive written in the
// desk's time zone; here each reader sees them in their own zone and the page's language.
const LOCAL_STYLES = {
  datetime: { dateStyle: "short", timeStyle: "short" },
  date: { dateStyle: "medium" },
  time: { hour: "2-digit", minute: "2-digit", timeZoneName: "short" },
  seconds: { dateStyle: "short", timeStyle: "medium" },
};
// The reader's own variant of the page's language: a British browser on the English interface
// writes 01/05/2024, an American one 5/1/24.
function readerLocale() {
  const lang = document.documentElement.lang || "";
  const own = (navigator.languages || [navigator.language]).find(
    (tag) => typeof tag === "string" && tag.split("-")[0].toLowerCase() === lang,
  );
  return own || lang || undefined;
}
function localiseTimes(root) {
  const lang = readerLocale();
  for (const el of root.querySelectorAll("time[data-local]")) {
    const at = Date.parse(el.getAttribute("datetime") || "");
    const style = LOCAL_STYLES[el.getAttribute("data-local")];
    if (Number.isNaN(at) || !style) continue;
    try {
      el.textContent = new Intl.DateTimeFormat(lang, style).format(at);
      el.title = el.getAttribute("datetime");
    } catch (_err) {
      // an engine without Intl keeps the server's writing
    }
  }
}
document.addEventListener("DOMContentLoaded", () => localiseTimes(document));
// panels and rows that HTMX swaps in
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target instanceof Element) localiseTimes(event.target);
});

// Count-down clocks: <time data-countdown="ISO"> shows the minutes and seconds left.
function tickCountdowns() {
  for (const el of document.querySelectorAll("[data-countdown]")) {
    const end = Date.parse(el.getAttribute("data-countdown"));
    if (Number.isNaN(end)) continue;
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    const s = String(left % 60).padStart(2, "0");
    // m:ss up to an hour, h:mm:ss beyond (a long response target reads as hours, not 125:00).
    if (left > 3600) {
      const m = String(Math.floor((left % 3600) / 60)).padStart(2, "0");
      el.textContent = `${Math.floor(left / 3600)}:${m}:${s}`;
    } else {
      el.textContent = `${Math.floor(left / 60)}:${s}`;
    }
    el.classList.toggle("done", left === 0);
  }
}
setInterval(tickCountdowns, 1000);
document.addEventListener("DOMContentLoaded", tickCountdowns);

// Live banner: server-sent events from /events, when the page asks for them.
document.addEventListener("DOMContentLoaded", () => {
  const banner = document.getElementById("live-banner");
  if (!banner || !("EventSource" in window) || !document.body.hasAttribute("data-live")) return;
  const source = new EventSource("/events");
  const RANK = { watch: 1, flame: 2, crisis: 3 };
  let shown = { rank: 0, page: null };
  source.addEventListener("alert", (event) => {
    let data;
    try { data = JSON.parse(event.data); } catch (_err) { return; }
    const level = String(data.level || "watch").replace(/[^a-z]/g, "");
    const rank = RANK[level] || 1;
    // The worst news stays up: a watch elsewhere does not cover a crisis still on screen.
    if (rank < shown.rank && data.page_id !== shown.page) return;
    shown = { rank, page: data.page_id };
    const url = String(data.url || "");
    const link = document.createElement(/^\/crisis\/\d+$/.test(url) ? "a" : "span");
    if (link instanceof HTMLAnchorElement) link.href = url;
    link.textContent = data.text || "";
    banner.replaceChildren(link);
    banner.className = "live-banner level-" + level;
    banner.hidden = false;
  });
});
