// A report page's 定时发送: a small form under the filters that makes a schedule of this report with the filters as
// the form shows them (each named by its label as shown), how often in words, to the reader themselves (an admin:
// the users picked). Saved through /api/v1/schedules/ (its checks, its Chinese answers); the answer says when it
// runs next and where it is kept (定时任务). The form lists the reader's own schedules of this report
// (?report=, with 删除); saving filters one of them already has changes that one (已更新定时发送), never a second.
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

  var existing = document.getElementById('rs-existing');
  var listed = []; // the reader's schedules of this report, as the API answers them
  var report = box.getAttribute('data-report');

  // a filter's value in words: "期间：本月" (a choice by the text the form shows for it)
  function filterWords(input, value) {
    var labelFor = filters.querySelector('label[for="' + input.id + '"]');
    var shown = value;
    if (input.tagName === 'SELECT') {
      var option = Array.prototype.find.call(input.options, function (o) { return o.value === value; });
      shown = option ? option.text : value;
    }
    return (labelFor ? labelFor.textContent.trim() + '：' : '') + shown;
  }

  // the filters as the report's form shows them now: {name: value} and "期间：本月；客户：K001" (an open 任意 left out)
  function shownFilters() {
    var params = {};
    var words = [];
    filters.querySelectorAll('input[name], select[name]').forEach(function (input) {
      var value = (input.value || '').trim();
      if (!value || input.disabled) { return; }
      params[input.name] = value;
      words.push(filterWords(input, value));
    });
    return { params: params, words: words.join('；') };
  }

  // a stored schedule's filters in the same words
  function storedWords(params) {
    return Object.keys(params).filter(function (name) { return name !== 'report'; }).map(function (name) {
      var input = filters.querySelector('[name="' + name + '"]');
      return input ? filterWords(input, String(params[name])) : name + '：' + params[name];
    }).join('；') || texts.no_filters;
  }

  function sameParams(a, b) {
    var keys = Object.keys(a).sort();
    return keys.join() === Object.keys(b).sort().join() &&
      keys.every(function (key) { return String(a[key]) === String(b[key]); });
  }

  function call(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'X-CSRFToken': box.getAttribute('data-csrf'),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, body: answer }; });
    });
  }

  // a cell named by its column's heading (a phone shows each row as a card of named lines)
  function cell(row, text) {
    var td = document.createElement('td');
    var head = existing.querySelectorAll('thead th')[row.children.length];
    td.setAttribute('data-label', head ? head.textContent : '');
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function showListed() {
    var body = existing.querySelector('tbody');
    body.textContent = '';
    listed.forEach(function (item) {
      var row = document.createElement('tr');
      row.setAttribute('data-schedule', item.id);
      cell(row, item.title);
      cell(row, (item.when || item.cron) + (item.active ? '' : texts.stopped));
      cell(row, storedWords(item.params));
      cell(row, item.recipients.join('、'));
      var remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'btn btn-default btn-xs rs-delete';
      remove.textContent = texts.delete;
      remove.addEventListener('click', function () { forget(item); });
      cell(row, '').appendChild(remove);
      body.appendChild(row);
    });
    existing.hidden = !listed.length;
  }

  function loadListed() {
    return call('GET', '/api/v1/schedules/?report=' + encodeURIComponent(report)).then(function (res) {
      listed = res.ok ? res.body.result : [];
      showListed();
    });
  }

  function forget(item) {
    call('DELETE', '/api/v1/schedules/' + item.id).then(function (res) {
      if (!res.ok) { say('danger', res.body.message || texts.failed); return; }
      say('success', fill(texts.deleted, { title: item.title }));
      loadListed();
    }).catch(function () { say('danger', texts.failed); });
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
    loadListed();
  });
  document.getElementById('rs-cancel').addEventListener('click', function () {
    box.hidden = true;
    open.setAttribute('aria-expanded', 'false');
  });

  box.addEventListener('submit', function (event) {
    event.preventDefault();
    var title = document.getElementById('rs-title').value.trim();
    var params = Object.assign({ report: report }, shownFilters().params);
    var same = listed.find(function (item) { return sameParams(item.params, params); });
    var body = {
      name: same ? same.name
        : ('r_' + report.toLowerCase().replace(/[^a-z0-9_]/g, '_')).slice(0, 48) + '_' + Date.now().toString(36),
      title: title,
      kind: 'report',
      frequency: picked(),
      params: params,
      recipients: recipients(),
    };
    if (same) { // the one with these filters, changed whole: what the form does not show is kept as it was (what
      // only an admin sets, and sees whole, by an admin)
      var kept = box.getAttribute('data-admin') ? ['addresses', 'robots', 'external', 'run_as', 'skip_empty']
        : ['skip_empty'];
      kept.forEach(function (key) { body[key] = same[key]; });
    }
    save.disabled = true;
    call(same ? 'PUT' : 'POST', '/api/v1/schedules/' + (same ? same.id : ''), body)
      .then(function (res) {
        save.disabled = blocked;
        if (!res.ok) {
          var errors = res.body.errors || [];
          say('danger', errors.length ? errors.map(function (e) { return e.message; }).join('；')
            : (res.body.message || texts.failed));
          return;
        }
        var made = res.body.result;
        var values = { when: made.when || made.cron, title: made.title, next_run: made.next_run };
        var text = fill(same ? texts.updated : texts.saved, values);
        var warnings = res.body.warnings || [];
        say(warnings.length ? 'warning' : 'success', [text].concat(warnings).join('。'), true);
        loadListed();
      })
      .catch(function () { save.disabled = blocked; say('danger', texts.failed); });
  });
})();
