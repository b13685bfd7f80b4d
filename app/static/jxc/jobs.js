// The jobs page: poll /api/v1/jobs/ while a job is queued or running and move its bar; cancel and retry.
(function () {
  'use strict';
  var root = document.getElementById('jxc-jobs');
  if (!root) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config'));
  var POLL_MS = 1000;
  var timer = null;

  function show(id, text) {
    var box = document.getElementById(id);
    box.textContent = text || '';
    box.hidden = !text;
  }

  function rowOf(id) { return root.querySelector('tr[data-job="' + id + '"]'); }

  function anyActive() {
    return Array.prototype.some.call(root.querySelectorAll('tr[data-job]'), function (tr) {
      return cfg.active.indexOf(tr.getAttribute('data-status')) >= 0;
    });
  }

  function fileLink(cell, cls, url, text) {
    var link = cell.querySelector('.' + cls);
    if (url && !link) {
      link = document.createElement('a');
      link.className = cls;
      link.href = url;
      link.textContent = text;
      cell.appendChild(document.createTextNode(' '));
      cell.appendChild(link);
    }
  }

  function update(job) {
    var tr = rowOf(job.id);
    if (!tr) { return false; }
    tr.setAttribute('data-status', job.status);
    tr.querySelector('.jxc-job-status').textContent = job.status_label;
    var bar = tr.querySelector('.jxc-job-bar');
    var inner = bar.querySelector('.progress-bar');
    var percent = job.percent === null ? 0 : job.percent;
    inner.style.width = percent + '%';
    bar.setAttribute('aria-valuenow', String(percent));
    inner.className = 'progress-bar' + (job.status === 'failed' ? ' progress-bar-danger'
      : job.status === 'done' ? ' progress-bar-success' : job.status === 'running' ? ' progress-bar-striped active' : '');
    tr.querySelector('.jxc-job-count').textContent = job.done + (job.total === null ? '' : ' / ' + job.total);
    tr.querySelector('.jxc-job-message').textContent = job.message || '';
    var files = tr.querySelector('.jxc-job-files');
    fileLink(files, 'jxc-job-result', job.result_url, files.getAttribute('data-result-text'));
    fileLink(files, 'jxc-job-errors', job.error_report_url, files.getAttribute('data-errors-text'));
    tr.querySelector('[data-job-action="cancel"]').hidden = cfg.active.indexOf(job.status) < 0;
    tr.querySelector('[data-job-action="retry"]').hidden = ['failed', 'cancelled'].indexOf(job.status) < 0;
    return true;
  }

  function poll() {
    timer = null;
    fetch(cfg.api + '?limit=100', {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        var unknown = false;
        body.result.forEach(function (job) { if (!update(job) && cfg.active.indexOf(job.status) >= 0) { unknown = true; } });
        if (unknown) { window.location.reload(); return; }
        schedule();
      })
      .catch(function () { schedule(POLL_MS * 3); });
  }

  function schedule(delay) {
    if (!timer && anyActive()) { timer = window.setTimeout(poll, delay || POLL_MS); }
  }

  root.addEventListener('click', function (event) {
    var button = event.target.closest('[data-job-action]');
    if (!button) { return; }
    var tr = button.closest('tr[data-job]');
    var action = button.getAttribute('data-job-action');
    button.disabled = true;
    fetch(cfg.api + tr.getAttribute('data-job') + '/' + action, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Accept': 'application/json', 'X-CSRFToken': cfg.csrf_token}
    }).then(function (r) {
      return r.json().then(function (body) { return {ok: r.ok, body: body}; });
    }).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) { show('jxc-jobs-error', answer.body.message); return; }
      show('jxc-jobs-error', '');
      show('jxc-jobs-info', answer.body.message);
      if (action === 'retry') { window.location.reload(); return; }
      tr.setAttribute('data-status', answer.body.status);
      poll();
    }).catch(function () { button.disabled = false; });
  });

  schedule();
}());
