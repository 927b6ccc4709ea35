// Flame alerts: ask app.js for the live banner on these pages. Deferred scripts run before
// DOMContentLoaded, when app.js looks for body[data-live] and opens /events.
"use strict";
document.body.setAttribute("data-live", "");

// On a phone the timeline scrolls sideways: start at its right end, where the latest hours are.
document.addEventListener("DOMContentLoaded", () => {
  for (const chart of document.querySelectorAll(".chart-scroll")) {
    chart.scrollLeft = chart.scrollWidth;
  }
});
