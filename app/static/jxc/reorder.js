// 补货建议: the box in the header ticks or clears every suggestion of the page.
(function () {
  'use strict';
  var all = document.getElementById('jxc-reorder-page');
  if (!all) {
    return;
  }
  all.addEventListener('change', function () {
    document.querySelectorAll('.jxc-reorder-item').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
