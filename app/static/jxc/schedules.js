// 定时任务's form for a user who sends themselves a report: the filters shown are the report's the form was opened
// with; another report picked leaves them out (disabled: not sent) and says they are set after saving.
(function () {
  'use strict';
  var report = document.getElementById('sch-report');
  var filters = document.getElementById('sch-filters');
  if (!report || !filters) { return; }
  var later = document.getElementById('sch-filters-later');
  report.addEventListener('change', function () {
    var other = report.value !== report.getAttribute('data-shown');
    filters.querySelectorAll('.jxc-sch-filter, #sch-filter-words').forEach(function (node) { node.classList.toggle('hide', other); });
    filters.querySelectorAll('input, select').forEach(function (input) { input.disabled = other; });
    later.classList.toggle('hide', !other);
  });
}());
