// A report page's 定时发送: a small form under the filters that makes a schedule of this report with the filters as
// the form shows them (each named by its label as shown), how often in words, to the reader themselves (an admin:
// the users picked). Saved through /api/v1/schedules/ (its checks, its Chinese answers); the answer says when it
// runs next and where it is kept (定时任务).
(function () {
  'use strict';
  var box = document.getElementById('jxc-schedule-box');
  var open = document.getElementById('jxc-report-schedule');
  var filters = document.getElementById('jxc-report-filters');
  if (!box || !open || !filters) { return; }
  var texts = JSON.parse(box.getAttribute('data-texts'));
  var message = document.getElementById('rs-message');
  var save = document.getElementById('rs-save');
  var blocked = save.disabled; // no address to send to: nothing to save (the form says why)

  function say(kind, text, link) {
    message.className = 'alert alert-' + kind;
    message.textContent = text;
    if (link) {
      var a = document.createElement('a');
      a.href = '/admin/schedules/';
      a.id = 'rs-open';
      a.className = 'alert-link';
      a.textContent = ' ' + texts.open;
      message.appendChild(a);
    }
    message.hidden = false;
  }

  // the filters as the report's form shows them now: {name: value} and "期间：本月；客户：K001" (an open 任意 left out)
  function shownFilters() {
    var params = {};
    var words = [];
    filters.querySelectorAll('input[name], select[name]').forEach(function (input) {
      var value = (input.value || '').trim();
      if (!value || input.disabled) { return; }
      params[input.name] = value;
      var labelFor = filters.querySelector('label[for="' + input.id + '"]');
      var shown = input.tagName === 'SELECT' ? input.options[input.selectedIndex].text : value;
      words.push((labelFor ? labelFor.textContent.trim() + '：' : '') + shown);
    });
    return { params: params, words: words.join('；') };
  }

  function picked() {
    var every = box.querySelector('[name=every]').value;
    var frequency = { every: every, time: box.querySelector('[name=time]').value };
    if (every === 'week') {
      frequency.weekdays = Array.prototype.map.call(
        box.querySelectorAll('[name=weekdays]:checked'), function (input) { return Number(input.value); });
    }
    if (every === 'month') { frequency.day = box.querySelector('[name=day]').value; }
    return frequency;
  }

  function recipients() {
    var list = document.getElementById('rs-recipients');
    if (!list) { return [box.getAttribute('data-me')]; }
    return Array.prototype.filter.call(list.options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return values[key] == null ? all : values[key]; });
  }

  open.addEventListener('click', function () {
    box.hidden = !box.hidden;
    open.setAttribute('aria-expanded', String(!box.hidden));
    if (box.hidden) { return; }
    document.getElementById('rs-filters').textContent = shownFilters().words || texts.no_filters;
    message.hidden = true;
    save.disabled = blocked;
  });
  document.getElementById('rs-cancel').addEventListener('click', function () {
    box.hidden = true;
    open.setAttribute('aria-expanded', 'false');
  });

  box.addEventListener('submit', function (event) {
    event.preventDefault();
    var report = box.getAttribute('data-report');
    var title = document.getElementById('rs-title').value.trim();
    var body = {
      name: ('r_' + report.toLowerCase().replace(/[^a-z0-9_]/g, '_')).slice(0, 48) + '_' + Date.now().toString(36),
      title: title,
      kind: 'report',
      frequency: picked(),
      params: Object.assign({ report: report }, shownFilters().params),
      recipients: recipients(),
    };
    save.disabled = true;
    fetch('/api/v1/schedules/', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'X-CSRFToken': box.getAttribute('data-csrf'),
      },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response.json().then(function (answer) { return { ok: response.ok, body: answer }; });
      })
      .then(function (res) {
        save.disabled = res.ok; // saved once: opened again for another
        if (!res.ok) {
          var errors = res.body.errors || [];
          say('danger', errors.length ? errors.map(function (e) { return e.message; }).join('；')
            : (res.body.message || texts.failed));
          return;
        }
        var made = res.body.result;
        var text = fill(texts.saved, { when: made.when || made.cron, title: made.title, next_run: made.next_run });
        var warnings = res.body.warnings || [];
        say(warnings.length ? 'warning' : 'success', [text].concat(warnings).join('。'), true);
      })
      .catch(function () { save.disabled = false; say('danger', texts.failed); });
  });
})();
