"""The live part of the status page: self-contained HTML, CSS and JavaScript (no CDN, no
library) that polls ``?json`` once a second and draws small inline SVG charts: requests
per second, latency percentiles (p50/p90/p99), running scripts with their age, warm
interpreters, per-vhost counts and recent script failures.

Only the page's text: must not know the counters (``report`` puts it in the page).
"""

from __future__ import annotations

CHARTS = r"""<hr />
<style>
#live{font:14px/1.4 system-ui,sans-serif;display:grid;
 grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px;max-width:1100px}
#live section{border:1px solid #ccd;border-radius:6px;padding:8px 10px}
#live h2{font-size:15px;margin:0 0 6px}
#live .big{font-size:22px;font-weight:600}
#live svg{width:100%;height:90px;background:#f7f8fb}
#live table{border-collapse:collapse;width:100%;font-size:12px}
#live td,#live th{text-align:left;padding:1px 4px;border-bottom:1px solid #eee}
.p50{stroke:#2a7}.p90{stroke:#e90}.p99{stroke:#d33}.rps{stroke:#36c}.run{stroke:#839}
#live polyline{fill:none;stroke-width:2}
</style>
<h2>cgihttpd live <small id="state">(starting)</small></h2>
<p id="scope">Requests per second, totals, script runs and failures: the whole server
(<span id="processes">1</span> worker processes). Latency, running scripts, warm
interpreters, per-vhost counts and recent failures: the worker that answered
(pid <span id="pid">0</span>).</p>
<div id="live">
<section><h2>Requests per second</h2><div class="big" id="rps">0</div>
 <svg viewBox="0 0 300 90" preserveAspectRatio="none"><polyline class="rps" id="rps-line"/></svg>
 <div>total <span id="accesses">0</span> requests</div></section>
<section><h2>Latency (ms, last <span id="window">0</span> requests)</h2>
 <div>p50 <b id="p50">0</b> &middot; p90 <b id="p90">0</b> &middot; p99 <b id="p99">0</b></div>
 <svg viewBox="0 0 300 90" preserveAspectRatio="none"><polyline class="p50" id="p50-line"/>
 <polyline class="p90" id="p90-line"/><polyline class="p99" id="p99-line"/></svg></section>
<section><h2>Running scripts: <span id="running">0</span></h2>
 <svg viewBox="0 0 300 90" preserveAspectRatio="none"><polyline class="run" id="run-line"/></svg>
 <table><thead><tr><th>script</th><th>vhost</th><th>age (s)</th></tr></thead>
 <tbody id="scripts"></tbody></table>
 <div><span id="script-runs">0</span> runs, <span id="script-failures">0</span> failed</div></section>
<section><h2>Warm interpreters: <span id="warm-count">0</span></h2>
 <table><tbody id="warm"></tbody></table></section>
<section><h2>Requests per virtual host</h2><table><tbody id="vhosts"></tbody></table></section>
<section><h2>Recent script failures</h2><table><tbody id="failures"></tbody></table></section>
</div>
<script>
(function () {
  "use strict";
  var KEEP = 120, hist = {rps: [], p50: [], p90: [], p99: [], run: []}, last = null;
  var polls = 0;
  function $(id) { return document.getElementById(id); }
  function push(name, v) { var a = hist[name]; a.push(v); if (a.length > KEEP) a.shift(); }
  function draw(id, values, top) {
    var n = values.length, pts = [];
    for (var i = 0; i < n; i++) {
      var x = n < 2 ? 300 : i * 300 / (KEEP - 1) + (KEEP - n) * 300 / (KEEP - 1);
      pts.push(x.toFixed(1) + "," + (88 - 84 * values[i] / (top || 1)).toFixed(1));
    }
    $(id).setAttribute("points", pts.join(" "));
  }
  function max(a) { var m = 0; a.forEach(function (v) { if (v > m) m = v; }); return m; }
  function rows(id, list, cells) {
    var body = $(id); body.textContent = "";
    list.forEach(function (item) {
      var tr = document.createElement("tr");
      cells(item).forEach(function (c) {
        var td = document.createElement("td"); td.textContent = c; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  function show(s) {
    var rps = 0;
    if (last && s.now > last.now && s.accesses >= last.accesses) {
      rps = (s.accesses - last.accesses) / (s.now - last.now);
    }
    last = s; polls++;
    push("rps", rps); push("p50", s.latency_ms.p50); push("p90", s.latency_ms.p90);
    push("p99", s.latency_ms.p99); push("run", s.scripts.length);
    $("rps").textContent = rps.toFixed(1);
    $("accesses").textContent = s.accesses;
    $("processes").textContent = s.processes;
    $("pid").textContent = s.pid;
    $("window").textContent = s.latency_window;
    ["p50", "p90", "p99"].forEach(function (p) { $(p).textContent = s.latency_ms[p]; });
    $("running").textContent = s.scripts.length;
    $("script-runs").textContent = s.script_runs;
    $("script-failures").textContent = s.script_failures;
    $("warm-count").textContent = s.warm.length;
    draw("rps-line", hist.rps, max(hist.rps));
    var top = max(hist.p99);
    ["p50", "p90", "p99"].forEach(function (p) { draw(p + "-line", hist[p], top); });
    draw("run-line", hist.run, Math.max(max(hist.run), 1));
    rows("scripts", s.scripts, function (x) { return [x.file, x.vhost, x.age.toFixed(1)]; });
    rows("warm", s.warm, function (x) { return [x.what, "pid " + x.pid]; });
    rows("vhosts", Object.keys(s.vhosts).sort().map(function (k) { return [k, s.vhosts[k]]; }),
         function (x) { return x; });
    rows("failures", s.failures.slice().reverse(), function (x) {
      return [new Date(x.at * 1000).toLocaleTimeString(), x.file, x.summary];
    });
    $("state").textContent = "(" + polls + " updates)";
    document.body.setAttribute("data-polls", String(polls));
  }
  function poll() {
    fetch(location.pathname + "?json", {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(show)
      .catch(function (e) { $("state").textContent = "(" + e + ")"; })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>"""
