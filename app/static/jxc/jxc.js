// Every page: confirmation for destructive buttons and the print button (no inline script: the CSP
// forbids it).
(function () {
  'use strict';

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-confirm]');
    if (button && !window.confirm(button.getAttribute('data-confirm'))) {
      event.preventDefault();
    }
  });

  document.addEventListener('click', function (event) {
    if (event.target.closest('[data-print]')) { window.print(); }
  });
}());
