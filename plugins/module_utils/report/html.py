# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The single-file HTML page of the collection's reports: escaping, the style, and one
script that makes tables sortable and filterable.

A report is opened from a CI artifact store, a mail attachment or a file share, often
with no network: everything it needs is inside the file. Its Content-Security-Policy
allows inline style and script only, so a value that slipped through escaping could not
load anything either. Data a script reads (the evidence behind a cell) is embedded as
JSON in a ``<script type="application/json">`` element, never in markup or code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from html import escape

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = '''
:root { --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #b42318; --fail-bg: #fee4e2; --warn: #8a5a00;
  --warn-bg: #fff4d6; --waived: #5b4fc7; --waived-bg: #ebe9fe; --na: #667085; --na-bg: #f2f4f7;
  --line: #d0d5dd; --ink: #101828; --muted: #475467; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  margin: 0 auto; padding: 1.5rem; max-width: 100rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.tiles { display: flex; flex-wrap: wrap; gap: .75rem; margin: 1rem 0; }
.tile { border: 1px solid var(--line); border-radius: .5rem; padding: .5rem .9rem; min-width: 8rem; }
.tile b { display: block; font-size: 1.4rem; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
.controls input, .controls select { font: inherit; padding: .25rem .4rem; }
.scroll { overflow: auto; max-height: 80vh; border: 1px solid var(--line); border-radius: .5rem; }
table { border-collapse: collapse; width: max-content; min-width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: #fff; z-index: 1; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; }
th.sortable[aria-sort=ascending]::after { content: " \\25B2"; }
th.sortable[aria-sort=descending]::after { content: " \\25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr[hidden] { display: none; }
.pass { color: var(--pass); background: var(--pass-bg); } .fail { color: var(--fail); background: var(--fail-bg); }
.warn { color: var(--warn); background: var(--warn-bg); } .waived { color: var(--waived); background: var(--waived-bg); }
.na { color: var(--na); background: var(--na-bg); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
.detail { border: 1px solid var(--line); border-radius: .5rem; padding: .75rem 1rem; margin: 1rem 0; }
.detail pre { white-space: pre-wrap; word-break: break-word; margin: .25rem 0; }
'''

# Sorting: a click on a <th class="sortable"> orders the rows of its table's <tbody> by
# that column, numbers as numbers (a cell's data-sort when it has one, else its text).
# Filtering: an <input data-filter="TABLE"> keeps the rows whose text holds every word
# typed; a <select data-filter="TABLE" data-attr="NAME"> keeps the rows whose attribute
# NAME holds the chosen token (space-separated), or all rows for the empty choice. Rows
# must match every control of their table.
SCRIPT = '''
(function () {
  "use strict";
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && String(x) === a.replace(/^\\+/, "") && String(y) === b.replace(/^\\+/, "")) {
      return x - y;
    }
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"});
  }
  document.querySelectorAll("th.sortable").forEach(function (th) {
    th.setAttribute("tabindex", "0");
    function sort() {
      var table = th.closest("table"), body = table.tBodies[0], index = th.cellIndex;
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th.sortable").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (r1, r2) {
        var order = compare(cellValue(r1, index), cellValue(r2, index));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sort(); } });
  });
  function applyFilters(tableId) {
    var table = document.getElementById(tableId);
    if (!table) { return; }
    var controls = document.querySelectorAll("[data-filter=\\"" + tableId + "\\"]");
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var keep = true;
      controls.forEach(function (control) {
        var value = control.value.trim().toLowerCase();
        if (!keep || !value) { return; }
        if (control.hasAttribute("data-attr")) {
          var tokens = (row.getAttribute(control.getAttribute("data-attr")) || "").toLowerCase().split(/\\s+/);
          keep = tokens.indexOf(value) >= 0;
        } else {
          var text = row.textContent.toLowerCase();
          keep = value.split(/\\s+/).every(function (word) { return text.indexOf(word) >= 0; });
        }
      });
      row.hidden = !keep;
      if (keep) { shown += 1; }
    });
    var counter = document.querySelector("[data-count=\\"" + tableId + "\\"]");
    if (counter) { counter.textContent = String(shown); }
  }
  document.querySelectorAll("[data-filter]").forEach(function (control) {
    var tableId = control.getAttribute("data-filter");
    control.addEventListener("input", function () { applyFilters(tableId); });
    control.addEventListener("change", function () { applyFilters(tableId); });
  });
}());
'''


def esc(value):
    """``value`` as text safe inside an element or a quoted attribute."""
    return escape(u'%s' % (value,), quote=True)


def json_data(element_id, data):
    """``data`` as a JSON script element a page's script reads with ``JSON.parse``.

    ``<``, ``>`` and ``&`` are written as JSON escapes, so no value can end the element
    (``</script>``) or open a comment in it, whatever it holds.
    """
    text = json.dumps(data, sort_keys=True, separators=(',', ':'), ensure_ascii=False, default=str)
    text = text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
    # JavaScript before ES2019 ended a string at these two.
    text = text.replace(u'\u2028', '\\u2028').replace(u'\u2029', '\\u2029')
    return u'<script type="application/json" id="%s">%s</script>' % (esc(element_id), text)


def sortable_header(cells):
    """A ``<thead>`` row; ``cells`` are (label, css_class) pairs, each column sortable."""
    return u'<thead><tr>%s</tr></thead>' % u''.join(
        u'<th class="sortable %s" scope="col">%s</th>' % (esc(css or ''), esc(label)) for label, css in cells)


def filter_box(table_id, placeholder='Filter'):
    """A text box that keeps the rows of ``table_id`` holding every word typed."""
    return u'<input type="search" data-filter="%s" placeholder="%s" aria-label="%s">' % (
        esc(table_id), esc(placeholder), esc(placeholder))


def filter_select(table_id, attribute, label, choices):
    """A choice that keeps the rows of ``table_id`` whose ``attribute`` holds the token
    chosen; ``choices`` are (token, label) pairs, after an empty choice for all rows."""
    options = u''.join(u'<option value="%s">%s</option>' % (esc(token), esc(text)) for token, text in choices)
    return u'<select data-filter="%s" data-attr="%s" aria-label="%s"><option value="">%s: all</option>%s</select>' % (
        esc(table_id), esc(attribute), esc(label), esc(label), options)


def page(title, body, style='', script='', generated_at=None):
    """The whole document: ``body`` is markup its caller escaped; ``style`` and ``script``
    are added after the shared ones."""
    meta = u'<p class="meta">Generated %s by virtumancer.hostcaps</p>' % esc(generated_at) if generated_at else u''
    return (u'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            u'<meta http-equiv="Content-Security-Policy" content="%s">\n'
            u'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            u'<title>%s</title>\n<style>%s%s</style>\n</head>\n<body>\n<h1>%s</h1>\n%s%s\n'
            u'<script>%s%s</script>\n</body>\n</html>\n') % (
        _CSP, esc(title), STYLE, style, esc(title), meta, body, SCRIPT, script)
