// The grid's first rows, asked for as soon as the page's head is read: this small script is the first in
// the page (helpers.js before it), so it waits for no style sheet, and runs while the styles, Tabulator and
// the other scripts load and start. Tabulator's first rows request (rows.js loadRows, through request())
// has the same URL and takes this answer (G.early). Its tag carries the rows URL and the page size.
(function (G) {
  'use strict';

  var tag = document.currentScript;
  if (!tag || !tag.getAttribute('data-rows') || G.isPhone() || !window.fetch) { return; }
  var url = G.withQuery(tag.getAttribute('data-rows'), [['page', 1], ['size', Number(tag.getAttribute('data-size'))]]);
  G.early[url] = fetch(url, G.fetchOptions('GET'));
}(window.JXCGrid = window.JXCGrid || {}));
