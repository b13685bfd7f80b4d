// A new stocktake on the phone: the choices on the page (warehouse, category, scope) are sent to the
// stocktake's own API, as the desk's form sends them (its book is snapshot as it is saved); a refused field
// is said next to it, and a stocktake made opens its counting page. A link with any number of rows (the
// category) is looked up as typed through the grid's link lookup; a row picked is sent by its id, text typed
// and not picked as it was typed (the API takes a code or a name, and refuses one it does not know).
(function () {
  'use strict';

  var P = window.JXCPhone;
  var form = document.getElementById('ph-new-count');
  var message = document.getElementById('ph-msg');
  var start = document.getElementById('ph-start');
  var fields = Array.prototype.slice.call(form.querySelectorAll('[data-field]'));
  var picked = {}; // per looked-up field: {id, text} of the row picked, while the field still shows it
  var cancels = []; // per looked-up field: forgets a lookup under way (the form is being sent)

  function errorOf(name) { return document.getElementById('ph-error-' + name); }

  function clear() {
    fields.forEach(function (field) { P.show(errorOf(field.getAttribute('data-field')), ''); });
    P.show(message, '');
  }

  function valueOf(field) {
    var name = field.getAttribute('data-field');
    var value = field.value.trim();
    if (value === '') { return null; }
    if (field.hasAttribute('data-lookup')) {
      return picked[name] && picked[name].text === field.value ? picked[name].id : value;
    }
    return field.hasAttribute('data-link') ? Number(value) : value;
  }

  function body() {
    var out = { lines: [] };
    fields.forEach(function (field) { out[field.getAttribute('data-field')] = valueOf(field); });
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

  // a looked-up field: its matches as it is typed (the last answer only), picked with a tap
  function lookUp(field) {
    var name = field.getAttribute('data-field');
    var list = document.getElementById('ph-choices-' + name);
    var timer = null;
    var asked = 0;
    function shown(open) { list.hidden = !open; field.setAttribute('aria-expanded', open ? 'true' : 'false'); }
    cancels.push(function () { clearTimeout(timer); asked += 1; shown(false); });
    field.addEventListener('input', function () {
      clearTimeout(timer);
      var q = field.value.trim();
      var mine = ++asked;
      if (!q) { shown(false); return; }
      timer = setTimeout(function () {
        P.lookup(field.getAttribute('data-lookup'), q, field.getAttribute('data-for')).then(function (rows) {
          if (mine !== asked) { return; }
          P.choices(list, rows, function (row) {
            field.value = row.key + ' ' + (row.name || '');
            picked[name] = { id: row.id, text: field.value };
            shown(false);
            P.show(errorOf(name), '');
          });
          shown(rows.length > 0);
          if (!rows.length) { P.show(errorOf(name), P.text('nothing_found'), 'warn'); }
        }, function () { /* offline: what is typed is sent as it is */ });
      }, 250);
    });
    // Enter picks the one row found rather than sending the form
    field.addEventListener('keydown', function (event) {
      if (event.key !== 'Enter') { return; }
      event.preventDefault();
      var only = list.hidden ? [] : list.querySelectorAll('.ph-choice');
      if (only.length === 1) { only[0].click(); }
    });
  }

  fields.forEach(function (field) {
    var name = field.getAttribute('data-field');
    field.addEventListener(field.hasAttribute('data-lookup') ? 'input' : 'change', function () {
      P.show(errorOf(name), '');
    });
    if (field.hasAttribute('data-lookup')) { lookUp(field); }
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    cancels.forEach(function (cancel) { cancel(); }); // a late answer does not speak over the server's
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
