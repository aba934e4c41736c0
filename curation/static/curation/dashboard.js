// Stash Sense curation dashboard: keyboard shortcuts on review items, live job progress.
(function () {
  "use strict";

  // Inputs that take no text: a shortcut pressed while one has focus is still a shortcut.
  var KEYLESS_INPUTS = ["radio", "checkbox", "button", "submit", "reset", "range", "color", "image", "file"];

  // Only text fields swallow keys (and a select, whose letters jump to an option).
  function typing(event) {
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input") return KEYLESS_INPUTS.indexOf((target.type || "text").toLowerCase()) === -1;
    return tag === "textarea" || tag === "select" || Boolean(target && target.isContentEditable);
  }

  // a = accept, r = reject, s = skip (the form's buttons carry data-key); j / k = next / previous.
  function reviewShortcuts() {
    var head = document.querySelector("[data-next-url]");
    if (!head) return;
    var submitted = false;
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event) || submitted) return;
      var key = event.key.toLowerCase();
      var button = document.querySelector('form.decision button[data-key="' + key + '"]');
      if (button) {
        event.preventDefault();
        submitted = true; // one decision per page: a held key must not post twice
        var form = button.form;
        if (form.requestSubmit) form.requestSubmit(button); else button.click();
        return;
      }
      var url = key === "j" ? head.dataset.nextUrl : key === "k" ? head.dataset.previousUrl : "";
      if (url) {
        event.preventDefault();
        window.location.assign(url);
      }
    });
  }

  function percent(value) {
    return Math.round(100 * (value || 0)) + "%";
  }

  function updateRow(row, job) {
    row.querySelectorAll("[data-field]").forEach(function (cell) {
      var field = cell.dataset.field;
      var known = job.progress_known !== false;
      if (field === "progress") {
        if (known) cell.value = job.progress || 0; else cell.removeAttribute("value"); // indeterminate
        cell.textContent = known ? percent(job.progress) : "";
      } else if (field === "progress_text") {
        cell.textContent = known ? percent(job.progress) : (job.seen || 0) + " so far";
      } else if (field === "active") {
        cell.textContent = job.active ? "yes" : "no";
      } else if (field in job) {
        var text = job[field] === null || job[field] === undefined ? "" : String(job[field]);
        cell.textContent = text.length > 200 ? text.slice(0, 199) + "…" : text;
      }
      if (field === "status_label") cell.className = "status status-" + job.status;
    });
    showCancel(row, job);
  }

  // A pending or running sync or scan can be cancelled; an ended one cannot.
  function showCancel(row, job) {
    var cell = row.querySelector("[data-cancel]");
    var template = document.getElementById("cancel-job-template");
    if (!cell || !template) return;
    var live = job.status === "pending" || job.status === "running";
    var form = cell.querySelector("form");
    if (!live && form) form.remove();
    if (live && !form) {
      cell.appendChild(template.content.cloneNode(true));
      cell.querySelector("input[name=job]").value = job.id;
    }
  }

  // A job the page has not shown yet gets a row like its table's others (the headers say
  // which fields), at the top: new jobs appear without a reload.
  var SECTIONS = ["sync_runs", "scene_scans", "index_builds"];
  var FIELDS = {
    sync_runs: ["source", "kind", "started_label", "status_label", "progress", "new", "updated", "deleted", "faces", "errors", "last_error"],
    scene_scans: ["started_label", "status_label", "progress", "total", "identified", "skipped", "errors", "last_error"],
    index_builds: ["profile", "started_label", "status_label", "active", "progress", "faces", "performers", "last_error"]
  };

  function newRow(section, job) {
    var row = document.createElement("tr");
    row.dataset.job = job.id;
    FIELDS[section].forEach(function (field) {
      var cell = document.createElement("td");
      if (field === "progress") {
        var bar = document.createElement("progress");
        bar.max = 1;
        bar.dataset.field = "progress";
        bar.setAttribute("aria-label", "progress");
        var text = document.createElement("span");
        text.dataset.field = "progress_text";
        cell.append(bar, " ", text);
      } else {
        cell.dataset.field = field;
        if (field === "last_error") cell.className = "error";
      }
      row.appendChild(cell);
    });
    if (section !== "index_builds") {
      var cancel = document.createElement("td");
      cancel.dataset.cancel = "";
      row.appendChild(cancel);
    }
    return row;
  }

  function addRow(root, section, job) {
    var body = root.querySelector('[data-section="' + section + '"] tbody');
    if (!body || !FIELDS[section]) return;
    var empty = body.querySelector(".empty-row");
    if (empty) empty.remove();
    var row = newRow(section, job);
    body.insertBefore(row, body.firstChild);
    updateRow(row, job);
  }

  // Polls the dashboard's JSON feed (session cookie) and updates the rows in place.
  function pollJobs() {
    var root = document.querySelector("[data-poll-url]");
    if (!root) return;
    var url = root.dataset.pollUrl;
    var seconds = parseFloat(root.dataset.pollSeconds || "3");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          SECTIONS.forEach(function (section) {
            // Oldest first, so that each new one lands on top, as the server orders them.
            (data[section] || []).slice().reverse().forEach(function (job) {
              var row = root.querySelector('[data-job="' + job.id + '"]');
              if (row) updateRow(row, job); else addRow(root, section, job);
            });
          });
          root.dataset.polled = String(Number(root.dataset.polled || "0") + 1);
        })
        .catch(function () { /* the next tick tries again */ })
        .finally(function () { window.setTimeout(tick, seconds * 1000); });
    }
    window.setTimeout(tick, seconds * 1000);
  }

  // The queue's filters apply as soon as one changes (the Filter button is for no-script).
  function applyFiltersOnChange() {
    document.querySelectorAll("form[data-apply-on-change]").forEach(function (form) {
      form.addEventListener("change", function () {
        var params = new URLSearchParams();
        new FormData(form).forEach(function (value, name) {
          if (value !== "") params.append(name, value); // empty filters stay out of the URL
        });
        var query = params.toString();
        window.location.assign(window.location.pathname + (query ? "?" + query : ""));
      });
    });
  }

  // The header checkbox ticks every item on the page.
  function tickAll() {
    document.querySelectorAll("[data-tick-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        box.form.querySelectorAll('input[name="items"]:not(:disabled)').forEach(function (item) {
          item.checked = box.checked;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    reviewShortcuts();
    pollJobs();
    applyFiltersOnChange();
    tickAll();
  });
})();
