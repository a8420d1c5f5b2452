// caredesk's pages: due times that count down, and the queue driven from the keyboard.
// Loaded from our own /assets (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  var root = document.documentElement;
  // Count from the server's clock, not this computer's: the page says when it was made.
  var skew = 0;
  var madeAt = Date.parse(root.dataset.now || "");
  if (!isNaN(madeAt)) {
    skew = madeAt - Date.now();
  }

  // "2 d 3 h", "45 min", "-12 min": the server's own wording, units from the page's language.
  function span(seconds) {
    var minutes = Math.floor(Math.abs(seconds) / 60);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor(minutes / 60) % 24;
    var rest = minutes % 60;
    var text;
    if (days > 0) {
      text = days + " " + root.dataset.unitDay + " " + hours + " " + root.dataset.unitHour;
    } else if (hours > 0) {
      text = hours + " " + root.dataset.unitHour + " " + rest + " " + root.dataset.unitMinute;
    } else {
      text = rest + " " + root.dataset.unitMinute;
    }
    return (seconds < 0 ? "-" : "") + text;
  }

  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("[data-due]").forEach(function (element) {
      var due = Date.parse(element.dataset.due);
      if (isNaN(due)) {
        return;
      }
      var left = Math.round((due - now) / 1000);
      element.textContent = span(left);
      element.classList.toggle("overdue", left < 0);
    });
  }

  tick();
  setInterval(tick, 15000);

  // The queue refreshes itself: keep the row that had the focus focused.
  var focusedTicket = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    focusedTicket = active && active.dataset ? active.dataset.ticket || null : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    tick();
    if (focusedTicket) {
      var again = document.querySelector('[data-queue-row][data-ticket="' + focusedTicket + '"]');
      if (again) {
        again.focus();
      }
    }
  });

  // j and k move through the queue; Enter opens the focused ticket (it is a link).
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key !== "j" && event.key !== "k") {
      return;
    }
    var target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) {
      return;
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
    if (rows.length === 0) {
      return;
    }
    var current = rows.indexOf(document.activeElement);
    var next = current === -1 ? 0 : current + (event.key === "j" ? 1 : -1);
    rows[Math.max(0, Math.min(rows.length - 1, next))].focus();
    event.preventDefault();
  });

  // A text area the writer clicked or typed into keeps its cursor for "Insert" below.
  ["focusin", "keyup", "mouseup"].forEach(function (kind) {
    document.addEventListener(kind, function (event) {
      if (event.target && event.target.tagName === "TEXTAREA") {
        event.target.dataset.touched = "yes";
      }
    });
  });

  // "Insert": a resource-center link goes into the reply being written, where the cursor is,
  // and the cursor after it.
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("[data-insert]") : null;
    if (!button) {
      return;
    }
    var area = document.getElementById(button.dataset.target || "");
    if (!area || area.tagName !== "TEXTAREA") {
      return;
    }
    var text = button.dataset.insert;
    // Where the writer left the cursor; at the end of a text they never clicked into.
    var touched = area.dataset.touched === "yes";
    var start = touched ? area.selectionStart : area.value.length;
    var end = touched ? area.selectionEnd : start;
    var before = area.value.slice(0, start);
    var after = area.value.slice(end);
    var spaced = (before.length > 0 && !/\s$/.test(before) ? " " : "") + text +
      (after.length > 0 && !/^\s/.test(after) ? " " : "");
    area.value = before + spaced + after;
    var cursor = before.length + spaced.length;
    area.focus();
    area.setSelectionRange(cursor, cursor);
    area.dispatchEvent(new Event("input", { bubbles: true }));
    event.preventDefault();
  });

  // "Copy the code": the activation code goes to the clipboard, the button says so.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) {
        return;
      }
      var text = source.value || source.textContent;
      var done = function () {
        button.textContent = button.dataset.copied;
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {
          source.select();
        });
      } else {
        source.select();
      }
    });
  });
})();
