// Flame alerts: ask app.js for the live banner on these pages. Deferred scripts run before
// DOMContentLoaded, when app.js looks for body[data-live] and opens /events.
"use strict";
document.body.setAttribute("data-live", "");
