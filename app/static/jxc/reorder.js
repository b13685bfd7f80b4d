// 补货建议: the default supplier filter offers suppliers as typed; the box in the header ticks or clears every
// suggestion of the page.
(function (J) {
  'use strict';
  document.querySelectorAll('#jxc-reorder-filters input[data-lookup]').forEach(J.offerAsTyped);
  var all = document.getElementById('jxc-reorder-page');
  if (!all) {
    return;
  }
  all.addEventListener('change', function () {
    document.querySelectorAll('.jxc-reorder-item').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})(window.JXC);
