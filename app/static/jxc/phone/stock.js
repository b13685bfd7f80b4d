// Stock lookup: the search field keeps the focus with its text selected, so the next scan (code + Enter
// from a scanner gun) replaces it and searches at once.
(function () {
  'use strict';

  var q = document.getElementById('ph-q');
  if (q) {
    q.focus();
    q.select();
  }
}());
