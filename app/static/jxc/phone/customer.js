// A customer's page: 催款 (the desk's 立即催款) through the accounts API; the page says what was queued or why not.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var message = document.getElementById('ph-msg');

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-dunning]');
    if (!button) { return; }
    button.disabled = true;
    P.call('POST', button.getAttribute('data-dunning')).then(function (answer) {
      P.show(message, answer.status === 202 ? answer.body.message : P.errorText(answer), answer.status === 202 ? 'ok' : 'error');
      button.disabled = false;
    }, function () {
      P.show(message, P.text('offline_write'), 'error');
      button.disabled = false;
    });
  });
}());
