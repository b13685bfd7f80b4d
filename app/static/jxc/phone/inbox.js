// The approval inbox: approve or reject a waiting document (with an optional comment) through the shared
// document API; the card says what happened and goes.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var message = document.getElementById('ph-msg');

  document.addEventListener('click', function (event) {
    var button = event.target.closest('[data-decide]');
    if (!button) { return; }
    var card = button.closest('[data-doc]');
    var action = button.getAttribute('data-decide');
    if (action === 'reject' && !window.confirm(P.text('confirm_reject'))) { return; }
    var comment = card.querySelector('input[name="comment"]').value;
    card.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    P.call('POST', '/api/v1/' + card.getAttribute('data-doc') + '/' + action, { comment: comment }).then(function (answer) {
      if (answer.status === 200) {
        P.show(message, (answer.body && answer.body.message) || P.text('done'), 'ok');
        card.remove();
      } else {
        P.show(message, P.errorText(answer), 'error');
        card.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
      }
    }, function () {
      P.show(message, P.text('offline_write'), 'error');
      card.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
    });
  });
}());
