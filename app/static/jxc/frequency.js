// A schedule's frequency picker (jxc/_frequency.html): only the parts of the choice made are shown (每周: the
// weekdays; 每月: the day; 高级: the cron string), the others hidden and left out of the form.
(function () {
  'use strict';
  function follow(picker) {
    var every = picker.querySelector('[data-every]');
    function show() {
      picker.querySelectorAll('[data-show]').forEach(function (part) {
        var shown = part.getAttribute('data-show').split(' ').indexOf(every.value) >= 0;
        part.hidden = !shown;
        part.querySelectorAll('input, select').forEach(function (input) { input.disabled = !shown; });
      });
    }
    every.addEventListener('change', show);
    show();
  }
  document.querySelectorAll('[data-frequency]').forEach(follow);
})();
