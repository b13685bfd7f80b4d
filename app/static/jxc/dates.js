// Dates are typed and shown as yyyy-mm-dd on every page, whatever the browser's locale: a native date input shows
// mm/dd/yyyy under en-US, so each date is a text input (`data-date`, the `date_input` macro of _input.html) with a
// button that opens the browser's own calendar on a hidden native input and writes the day picked back as
// yyyy-mm-dd. What a person types the usual ways (2026/1/5, 2026.1.5, 2026年1月5日, 20260105) becomes 2026-01-05 as
// the input is left, before the page's own scripts read it; anything else is left as typed for the server to refuse.
(function (J) {
  'use strict';

  var TYPED = /^(\d{4})\s*[-/.\u5e74]\s*(\d{1,2})\s*[-/.\u6708]\s*(\d{1,2})\s*\u65e5?$/;  // 2026-1-5, 2026/1/5, 2026.1.5, 2026 年 1 月 5 日
  var DIGITS = /^(\d{4})(\d{2})(\d{2})$/;

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // yyyy-mm-dd for a day typed the usual ways; null when the text is no such day (2026-02-30 is none)
  J.isoDate = function (text) {
    var m = String(text).trim().match(TYPED) || String(text).trim().match(DIGITS);
    if (!m) { return null; }
    var y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
    var day = new Date(Date.UTC(y, mo - 1, d));
    if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) { return null; }
    return y + '-' + pad(mo) + '-' + pad(d);
  };

  function normalise(input) {
    var iso = input.value.trim() ? J.isoDate(input.value) : null;
    if (iso && iso !== input.value) { input.value = iso; }
  }

  // capture: before a page's own change listeners (a report's filters) read the value
  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target.matches && target.matches('input[data-date]')) { normalise(target); }
  }, true);

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('.jxc-date-pick');
    if (!button) { return; }
    var box = button.closest('.jxc-date');
    var text = box.querySelector('input[data-date]');
    var native = box.querySelector('.jxc-date-native');
    if (text.disabled || text.readOnly) { return; }
    native.value = J.isoDate(text.value) || '';
    if (typeof native.showPicker === 'function') {
      try { native.showPicker(); return; } catch { /* not allowed here: type the date */ }
    }
    text.focus();
  });

  document.addEventListener('change', function (event) {
    var native = event.target;
    if (!native.classList || !native.classList.contains('jxc-date-native') || !native.value) { return; }
    var text = native.closest('.jxc-date').querySelector('input[data-date]');
    text.value = native.value;  // a native input's value is yyyy-mm-dd whatever it shows
    text.dispatchEvent(new Event('input', {bubbles: true}));
    text.dispatchEvent(new Event('change', {bubbles: true}));
  });
}(window.JXC = window.JXC || {}));
