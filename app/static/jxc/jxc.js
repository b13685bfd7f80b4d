// Confirmation for destructive buttons (no inline script: the CSP forbids it).
document.addEventListener('click', function (event) {
  var button = event.target.closest('[data-confirm]');
  if (button && !window.confirm(button.getAttribute('data-confirm'))) {
    event.preventDefault();
  }
});

// Print buttons on printable pages.
document.addEventListener('click', function (event) {
  if (event.target.closest('[data-print]')) { window.print(); }
});
