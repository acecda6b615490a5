// The report's script: draws the delivery matrix from one JSON table, and a check's rule verdicts,
// timeline (inline SVG) and transcript from its own JSON block when the check is opened or, for a
// check open from the start, scrolled near. Nothing is fetched; nothing is drawn twice.
(function () {
  "use strict";
  var started = performance.now();
  var SYMBOL = { arrived: "\u2713", quiet: "\u00b7", wrong: "\u2260", missing: "\u2717", unexpected: "!", late: "\u25f7", duplicate: "\u00d7" };
  var ROWS_PER_FAMILY = 300;  // more on demand: a green run of 1,000 checks has ~20,000 cells
  var data = JSON.parse(document.getElementById("b4a-matrix").textContent);
  var expanded = {};

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function ms(value) { return (Math.round(value * 10) / 10) + " ms"; }

  // Both times count from the start of the action's request: never subtract one from the other.
  function timing(latency, response) {
    if (latency === null) return response === null ? "" : "the action's response came " + ms(response) + " after its request was sent";
    var text = "first copy " + ms(latency) + " after the action's request was sent";
    if (response === null) return text;
    if (latency < response) return text + ", before its response (which came at " + ms(response) + ")";
    return text + "; its response came at " + ms(response);
  }

  function cellTitle(family, cell) {
    var column = family.columns[cell[0]];
    var lines = [column[2] + " (" + (column[1] === "fcm" ? "push" : "WebSocket") + "), as " + cell[7],
                 cell[1] + ": expected " + cell[3] + ", seen " + cell[4]];
    var when = timing(cell[5], cell[6]);
    if (when) lines.push(when);
    if (cell[8]) lines.push("rules " + cell[8]);
    return lines.join("\n");
  }

  function matrixTable(family, rows, withCheck) {
    var html = ['<div class="mx-wrap"><table class="mx"><thead><tr>'];
    if (withCheck) html.push('<th rowspan="2">Check</th>');
    html.push('<th rowspan="2">#</th><th rowspan="2">Event</th>');
    family.users.forEach(function (u) {
      html.push('<th class="user" colspan="' + u[2] + '">' + esc(u[0]) + (u[1] ? ' <span class="muted">' + esc(u[1]) + "</span>" : "") + "</th>");
    });
    html.push("</tr><tr>");
    family.columns.forEach(function (c) { html.push('<th class="ep" title="' + esc(c[2]) + '">' + esc(c[0]) + "</th>"); });
    html.push("</tr></thead><tbody>");
    var previous = -1;
    rows.forEach(function (row) {
      var check = data.checks[row[0]];
      var first = row[0] !== previous;
      previous = row[0];
      html.push('<tr class="' + (first ? "first " : "") + (row[3] ? "ok" : "differs") + '" data-k="' + row[0] + '">');
      if (withCheck) {
        html.push('<td class="chk">' + (first ? '<a href="#' + esc(check[1]) + '" title="' + esc(check[0]) + '">' + esc(check[4]) + "</a>" : "") + "</td>");
      }
      var name = row[2].indexOf("/") > 0 ? row[2].slice(row[2].indexOf("/") + 1) : row[2];
      html.push("<td>" + (row[1] === null ? "" : row[1]) + '</td><td class="ev"><code>' + (row[5] ? "unexplained copy: " : "") + esc(name) + "</code></td>");
      var cells = {};
      row[4].forEach(function (cell) { cells[cell[0]] = cell; });
      for (var i = 0; i < family.columns.length; i++) {
        var cell = cells[i];
        if (!cell) { html.push('<td class="c none"></td>'); continue; }
        var symbol = cell[1] === "duplicate" ? SYMBOL.duplicate + cell[4] : SYMBOL[cell[1]];
        html.push('<td class="c ' + cell[1] + '" data-state="' + cell[1] + '" data-endpoint="' + esc(family.columns[i][2]) +
                  '" data-r="' + cell[2] + '" title="' + esc(cellTitle(family, cell)) + '">' + symbol + "</td>");
      }
      html.push("</tr>");
    });
    html.push("</tbody></table></div>");
    return html.join("");
  }

  function renderMatrix() {
    var family = document.getElementById("f-family").value;
    var outcome = document.getElementById("f-outcome").value;
    var differences = document.getElementById("f-diff").checked;
    var html = [], shown = 0, total = 0;
    data.families.forEach(function (f) {
      total += f.rows.length;
      if (family && f.name !== family) return;
      var rows = f.rows.filter(function (r) {
        return (!outcome || data.checks[r[0]][3] === outcome) && (!differences || !r[3]);
      });
      if (!rows.length) return;
      shown += rows.length;
      var limit = expanded[f.name] ? rows.length : ROWS_PER_FAMILY;
      html.push('<h3 class="mx-family">' + esc(f.name) + ' <span class="muted">&middot; ' + rows.length + " event rows</span></h3>");
      html.push(matrixTable(f, rows.slice(0, limit), true));
      if (rows.length > limit) {
        html.push('<button type="button" class="more" data-family="' + esc(f.name) + '">show all ' + rows.length + " rows</button>");
      }
    });
    if (!html.length) {
      html.push('<p class="muted">' + (total ? "No event row matches the filters." : "No check of this run recorded deliveries.") + "</p>");
    }
    document.getElementById("matrix-tables").innerHTML = html.join("");
    document.getElementById("matrix-count").textContent = "showing " + shown + " of " + total + " event rows";
  }

  function pretty(value) {
    if (typeof value === "string") {
      var text = value.trim();
      if (text[0] === "{" || text[0] === "[") {
        try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return value; }
      }
      return value;
    }
    return JSON.stringify(value, null, 2);
  }

  function verdicts(rules) {
    if (!rules.length) return "";
    return '<div class="verdicts">' + rules.map(function (r) {
      return '<span class="' + esc(r[1]) + '" title="' + esc(r[2]) + '">' + esc(r[0]) + " " + esc(r[1]) + (r[1] === "SKIP" ? " (" + esc(r[2]) + ")" : "") + "</span>";
    }).join("") + "</div>";
  }

  function niceStep(span) {
    var steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= 10) return steps[i];
    return span / 10;
  }

  // Lanes: each HTTP client (a user, the harness), then each WebSocket connection, then each device.
  function timeline(steps) {
    if (!steps.length) return "";
    var lanes = {}, order = [];
    function lane(label, category) {
      if (!(label in lanes)) { lanes[label] = { category: category, first: order.length }; order.push(label); }
    }
    var CATEGORY = { http: 0, frame: 1, push: 2 };
    steps.forEach(function (s) { if (s[2] in CATEGORY) lane(s[1], CATEGORY[s[2]]); });
    steps.forEach(function (s) { lane(s[1], /#\d+$/.test(s[1]) ? 1 : 3); });
    order.sort(function (a, b) { return lanes[a].category - lanes[b].category || lanes[a].first - lanes[b].first; });
    order.forEach(function (label, i) { lanes[label].y = i; });
    var end = 0;
    steps.forEach(function (s) { end = Math.max(end, s[0] + (s[6] || 0) / 1000); });
    end = end || 0.001;
    var W = 1000, G = 170, R = 14, TOP = 20, H = 20;
    var height = TOP + order.length * H + 6;
    function x(t) { return G + (t / end) * (W - G - R); }
    var svg = ['<svg viewBox="0 0 ' + W + " " + height + '" role="img" aria-label="timeline of the check">'];
    order.forEach(function (label, i) {
      var y = TOP + i * H;
      if (i % 2 === 0) svg.push('<rect class="lane" x="0" y="' + y + '" width="' + W + '" height="' + H + '"></rect>');
      var shown = label.length > 26 ? label.slice(0, 25) + "\u2026" : label;
      svg.push('<text class="lane-label" x="6" y="' + (y + 14) + '">' + esc(shown) + "<title>" + esc(label) + "</title></text>");
    });
    var tick = niceStep(end);
    for (var t = 0; t <= end + 1e-9; t += tick) {
      svg.push('<line class="axis" x1="' + x(t) + '" x2="' + x(t) + '" y1="' + (TOP - 4) + '" y2="' + (height - 6) + '"></line>');
      svg.push('<text class="tick" x="' + x(t) + '" y="12" text-anchor="middle">' + (Math.round(t * 1000) / 1000) + " s</text>");
    }
    steps.forEach(function (s, i) {
      var y = TOP + lanes[s[1]].y * H + H / 2, cx = x(s[0]);
      var title = "<title>+" + s[0].toFixed(3) + " s \u00b7 " + esc(s[1]) + " \u00b7 " + esc(s[3]) + "</title>";
      var cls = (s[4] ? " error" : "") + (s[5] ? " marker" : "");
      if (s[2] === "http") {
        var width = Math.max(3, x(s[0] + (s[6] || 0) / 1000) - cx);
        svg.push('<rect data-i="' + i + '" class="http' + cls + '" x="' + cx + '" y="' + (y - 6) + '" width="' + width + '" height="12" rx="2">' + title + "</rect>");
      } else if (s[2] === "frame" && s[5]) {
        svg.push('<polygon data-i="' + i + '" class="marker" points="' + [cx, y - 6, cx + 6, y, cx, y + 6, cx - 6, y].join(",") + '">' + title + "</polygon>");
      } else if (s[2] === "frame") {
        svg.push('<circle data-i="' + i + '" class="frame' + (s[3].indexOf("sent") === 0 ? " out" : "") + cls + '" cx="' + cx + '" cy="' + y + '" r="4.5">' + title + "</circle>");
      } else if (s[2] === "push") {
        svg.push('<rect data-i="' + i + '" class="push' + cls + '" x="' + (cx - 4.5) + '" y="' + (y - 4.5) + '" width="9" height="9">' + title + "</rect>");
      } else {
        svg.push('<line data-i="' + i + '" class="note" x1="' + cx + '" x2="' + cx + '" y1="' + (y - 7) + '" y2="' + (y + 7) + '">' + title + "</line>");
      }
    });
    svg.push("</svg>");
    return '<div class="timeline">' + svg.join("") +
      '<div class="tl-legend">time since the check started; ' +
      '<i style="background:#0969da;border-radius:2px"></i>HTTP request to its response' +
      '<i style="background:#1a7f37"></i>WebSocket frame' +
      '<i style="background:#bc4c00;border-radius:0"></i>push attempt' +
      '<i style="background:#8250df;border-radius:0;transform:rotate(45deg)"></i>marker (proof of quiet)' +
      '<i style="background:#cf222e"></i>error &middot; click a mark for its transcript entry</div></div>';
  }

  function transcript(steps, open) {
    if (!steps.length) return '<p class="muted">No transcript was recorded.</p>';
    var rows = steps.map(function (s, i) {
      var details = s[7].map(function (d) {
        return "<details><summary>" + esc(d[0]) + "</summary><pre>" + esc(pretty(d[1])) + "</pre></details>";
      }).join("");
      return '<tr data-i="' + i + '" class="' + (s[4] ? "step-error" : "") + (s[5] ? " marker" : "") + '"><td class="num mono">+' + s[0].toFixed(3) +
        "s</td><td>" + esc(s[1]) + '</td><td class="kind"><span>' + esc(s[2]) + '</span></td><td class="detail"><div class="summary mono">' +
        esc(s[3]) + "</div>" + details + "</td></tr>";
    });
    return '<details class="transcript"' + (open ? " open" : "") + "><summary><b>Transcript</b> (" + steps.length +
      ' entries; t: seconds since the check started)</summary><table class="steps">' + rows.join("") + "</table></details>";
  }

  // The user (and its header hint) a column of a family belongs to, from the family's user spans.
  function userOf(family, column) {
    var start = 0;
    for (var i = 0; i < family.users.length; i++) {
      if (column < start + family.users[i][2]) return family.users[i];
      start += family.users[i][2];
    }
    return ["", ""];
  }

  function checkMatrix(index) {
    var check = data.checks[index];
    var html = [];
    data.families.forEach(function (f) {
      if (f.name !== check[2]) return;
      var rows = f.rows.filter(function (r) { return r[0] === index; });
      if (!rows.length) return;
      // Only this check's endpoints: the family's other columns would be empty here.
      var used = {};
      rows.forEach(function (r) { r[4].forEach(function (cell) { used[cell[0]] = true; }); });
      var keep = f.columns.map(function (c, i) { return i; }).filter(function (i) { return used[i]; });
      var position = {};
      keep.forEach(function (old, i) { position[old] = i; });
      var users = [];
      keep.forEach(function (i) {
        var user = userOf(f, i);
        if (users.length && users[users.length - 1][0] === user[0]) users[users.length - 1][2] += 1;
        else users.push([user[0], user[1], 1]);
      });
      var own = {
        name: f.name, users: users,
        columns: keep.map(function (i) { return f.columns[i]; }),
        rows: rows.map(function (r) {
          return [r[0], r[1], r[2], r[3], r[4].map(function (cell) { return [position[cell[0]]].concat(cell.slice(1)); }), r[5]];
        })
      };
      html.push("<p><b>Deliveries</b></p>" + matrixTable(own, own.rows, false));
    });
    return html.join("");
  }

  function fill(lazy) {
    if (lazy.getAttribute("data-done")) return;
    lazy.setAttribute("data-done", "1");
    var index = Number(lazy.getAttribute("data-check"));
    var check = JSON.parse(document.getElementById("b4a-check-" + index).textContent);
    var failing = ["FAIL", "NON_STRICT", "ERROR"].indexOf(data.checks[index][3]) >= 0;
    lazy.innerHTML = verdicts(check.rules) + checkMatrix(index) + timeline(check.steps) + transcript(check.steps, !failing);
  }

  function openTo(id) {
    var target = id && document.getElementById(id);
    if (!target) return;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS" && !node.open) node.open = true;
    }
    target.scrollIntoView({ block: "start" });
  }

  renderMatrix();
  ["f-family", "f-outcome", "f-diff"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", function () { expanded = {}; renderMatrix(); });
  });
  document.getElementById("matrix-tables").addEventListener("click", function (event) {
    var more = event.target.closest("button.more");
    if (more) { expanded[more.getAttribute("data-family")] = true; renderMatrix(); return; }
    var cell = event.target.closest("td.c");
    if (!cell || cell.classList.contains("none")) return;
    var anchor = data.checks[Number(cell.parentElement.getAttribute("data-k"))][1];
    var evidence = anchor + "-e" + cell.getAttribute("data-r");
    location.hash = document.getElementById(evidence) ? evidence : anchor;
  });

  document.addEventListener("toggle", function (event) {
    var element = event.target;
    if (element.matches && element.matches("details.check") && element.open) {
      var lazy = element.querySelector(".lazy");
      if (lazy) fill(lazy);
    }
  }, true);
  // The first open checks are drawn at once (they are what a reader sees first); the rest when near.
  var EAGER = 10;
  var lazies = Array.prototype.slice.call(document.querySelectorAll("details.check[open] .lazy"));
  lazies.slice(0, EAGER).forEach(fill);
  lazies = lazies.slice(EAGER);
  if ("IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) { observer.unobserve(entry.target); fill(entry.target); }
      });
    }, { rootMargin: "600px" });
    lazies.forEach(function (lazy) { observer.observe(lazy); });
  } else {
    lazies.forEach(fill);
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.check[open] .lazy").forEach(fill);
  });

  // A timeline mark shows its transcript entry.
  document.addEventListener("click", function (event) {
    var mark = event.target.closest && event.target.closest(".timeline [data-i]");
    if (!mark) return;
    var body = mark.closest(".lazy");
    var row = body.querySelector('table.steps tr[data-i="' + mark.getAttribute("data-i") + '"]');
    if (!row) return;
    body.querySelectorAll("tr.picked").forEach(function (r) { r.classList.remove("picked"); });
    row.classList.add("picked");
    row.closest("details").open = true;
    row.scrollIntoView({ block: "center" });
  });
  window.addEventListener("hashchange", function () { openTo(decodeURIComponent(location.hash.slice(1))); });
  if (location.hash) openTo(decodeURIComponent(location.hash.slice(1)));

  document.documentElement.setAttribute("data-render-ms", String(Math.round(performance.now())));
  document.documentElement.setAttribute("data-script-ms", String(Math.round(performance.now() - started)));
})();
