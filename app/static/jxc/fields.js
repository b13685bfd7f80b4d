// The field editor posts to the same endpoint as scripts do: POST /api/v1/meta/<model>/fields.
(function () {
  'use strict';

  var form = document.getElementById('add-field');
  if (!form) { return; }
  var result = document.getElementById('af-result');
  var t = window.JXC.translator();

  function selected(select) {
    return Array.prototype.filter.call(select.options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
  }

  function spec() {
    var data = new FormData(form);
    var out = {
      name: data.get('name').trim(),
      type: data.get('type'),
      label: {zh: data.get('label_zh').trim(), en: data.get('label_en').trim()}
    };
    var helpZh = data.get('help_zh').trim();
    var helpEn = data.get('help_en').trim();
    // no help typed: none (the form would repeat the label under its own input); one typed: the other is the label
    if (helpZh || helpEn) { out.help = {zh: helpZh || out.label.zh, en: helpEn || out.label.en}; }
    if (data.get('to')) { out.to = data.get('to'); }
    if (data.get('figure')) { out.figure = data.get('figure'); }
    if (data.get('measure')) { out.measure = data.get('measure'); }
    if (data.get('default').trim()) { out['default'] = data.get('default').trim(); }
    if (data.get('section')) { out.section = data.get('section'); }
    if (data.get('backfill').trim()) { out.backfill = data.get('backfill').trim(); }
    if (data.get('required')) { out.required = true; }
    if (data.get('unique')) { out.unique = true; }
    var options = data.get('options').trim();
    if (options) {
      out.options = options.split(/\r?\n/).filter(Boolean).map(function (line) {
        var parts = line.split('=');
        return {value: parts[0].trim(), label: {zh: (parts[1] || parts[0]).trim(), en: (parts[2] || parts[1] || parts[0]).trim()}};
      });
    }
    var readRoles = selected(form.querySelector('[name=read_roles]'));
    var writeRoles = selected(form.querySelector('[name=write_roles]'));
    if (readRoles.length) { out.read_roles = readRoles; }
    if (writeRoles.length) { out.write_roles = writeRoles; }
    return out;
  }

  // a required field on a model with rows asks what those rows take (the server refuses it without)
  var backfill = document.getElementById('af-backfill-group');
  var required = form.querySelector('[name=required]');
  function showBackfill() {
    backfill.hidden = !(required.checked && Number(backfill.dataset.rows) > 0);
  }
  required.addEventListener('change', showBackfill);
  showBackfill();

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    result.className = 'jxc-result';
    result.textContent = '…';
    fetch('/api/v1/meta/' + encodeURIComponent(form.dataset.model) + '/fields', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': form.dataset.csrf},
      body: JSON.stringify(spec())
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (answer.ok) {
        result.className = 'jxc-result text-success';
        result.textContent = t('added', {name: answer.body.result.name});
        window.setTimeout(function () { window.location.reload(); }, 600);
      } else {
        result.className = 'jxc-result text-danger';
        var errors = answer.body.errors || [{field: '', message: JSON.stringify(answer.body.message)}];
        result.textContent = errors.map(function (e) {
          var option = e.field ? t('option.' + e.field) : '';
          // an option the catalogue does not name (option.x comes back as itself) keeps its key
          return (e.field ? (option === 'option.' + e.field ? e.field : option) + '：' : '') + e.message;
        }).join('\n');
      }
    });
  });
}());
