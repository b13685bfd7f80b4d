// The grid's first rows, asked for as soon as the page's grid element is read: this small script runs right
// after it (helpers.js before it), while Tabulator and the other scripts load and start. Tabulator's first
// rows request (rows.js loadRows, through request()) has the same URL and takes this answer (G.early).
(function (G) {
  'use strict';

  var root = document.getElementById('jxc-grid');
  if (!root || G.isPhone() || !window.fetch) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config') || '{}');
  if (!cfg.urls || !cfg.urls.rows) { return; }
  var url = G.withQuery(cfg.urls.rows, [['page', 1], ['size', cfg.page_size]]);
  G.early[url] = fetch(url, G.fetchOptions('GET'));
}(window.JXCGrid = window.JXCGrid || {}));
