// A new stocktake on the phone: the choices on the page (warehouse, category, scope) are sent to the
// stocktake's own API, as the desk's form sends them (its book is snapshot as it is saved); a refused field
// is said next to it, and a stocktake made opens its counting page.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var form = document.getElementById('ph-new-count');
  var message = document.getElementById('ph-msg');
  var start = document.getElementById('ph-start');
  var fields = Array.prototype.slice.call(form.querySelectorAll('[data-field]'));

  function errorOf(name) { return document.getElementById('ph-error-' + name); }

  function clear() {
    fields.forEach(function (field) { P.show(errorOf(field.getAttribute('data-field')), ''); });
    P.show(message, '');
  }

  function body() {
    var out = { lines: [] };
    fields.forEach(function (field) {
      var value = field.value;
      out[field.getAttribute('data-field')] = value === '' ? null : field.hasAttribute('data-link') ? Number(value) : value;
    });
    return out;
  }

  // each refused field's words next to it; what names no field on the page, above the button
  function refused(answer) {
    var others = [];
    var errors = (answer.body || {}).errors;
    if (!Array.isArray(errors)) { errors = []; }
    errors.forEach(function (error) {
      var place = error.field ? errorOf(error.field) : null;
      if (place) {
        P.show(place, place.hidden ? error.message : place.textContent + '；' + error.message, 'error');
      } else {
        others.push(error.message);
      }
    });
    if (others.length || !errors.length) {
      P.show(message, others.length ? others.join('；') : P.errorText(answer), 'error');
    }
  }

  fields.forEach(function (field) {
    field.addEventListener('change', function () { P.show(errorOf(field.getAttribute('data-field')), ''); });
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clear();
    start.disabled = true;
    P.call('POST', '/api/v1/stocktake/', body()).then(function (answer) {
      if (answer.status === 201) {
        window.location.assign('/phone/count/' + answer.body.id);
        return;
      }
      start.disabled = false;
      refused(answer);
    }, function () {
      start.disabled = false;
      P.show(message, P.text('offline_write'), 'error');
    });
  });
}());
