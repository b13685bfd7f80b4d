// The import page: check a file (POST /api/v1/imports/preview for its rows, then a check job: POST
// /api/v1/imports/check), correct the column mapping, fix bad cells in place or a whole column at once, apply as a
// job with its progress bar, then undo. Edited rows are sent back as a UTF-8 csv (Papa Parse) with the same
// headers, so the server checks them exactly like the file.
(function () {
  'use strict';
  var root = document.getElementById('jxc-imports');
  if (!root) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config'));
  var texts = JSON.parse(document.getElementById('jxc-texts').textContent);
  var SHOWN = 500;
  var POLL_MS = 700;
  var state = {preview: null, headers: [], rows: [], issues: {}, mapping: {}, edited: false, importId: null};

  function t(key, params) {
    var text = texts[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.split('{' + name + '}').join(params[name]); });
    return text;
  }
  function $(id) { return document.getElementById(id); }
  function show(id, text) {
    var box = $(id);
    box.textContent = text || '';
    box.hidden = !text;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function send(method, url, body) {
    var options = {method: method, credentials: 'same-origin', headers: {'X-CSRFToken': cfg.csrf_token}};
    if (body) { options.body = body; }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var data;
        try { data = text ? JSON.parse(text) : {}; } catch { data = {message: text.slice(0, 300)}; }
        return {status: response.status, body: data};
      });
    }, function () { return {status: 0, body: {message: t('network')}}; });
  }

  function messageOf(body) {
    if (body.errors && body.errors.length) { return body.errors.map(function (e) { return e.message; }).join('; '); }
    return typeof body.message === 'string' ? body.message : t('network');
  }

  // the file to send: the chosen one, or the rows as edited here
  function currentFile() {
    if (!state.edited) { return $('jxc-imports-file').files[0] || null; }
    var csv = window.Papa.unparse([state.headers].concat(state.rows.map(function (r) { return r.cells; })));
    return new File(['\ufeff' + csv], 'edited.csv', {type: 'text/csv'});
  }

  function form(file) {
    var data = new FormData();
    data.append('model', cfg.model);
    data.append('file', file);
    data.append('action', $('jxc-imports-action').value);
    data.append('mode', $('jxc-imports-mode').value);
    if (Object.keys(state.mapping).length) { data.append('mapping', JSON.stringify(state.mapping)); }
    return data;
  }

  // 检查文件: the rows and their cells' problems at once (preview), then the check job: the import run through the one
  // write path and rolled back, whose refused cells (a model's rule, the row scope: what only writing finds) are
  // marked as the cells' own are, with its progress under the table
  function check() {
    var file = currentFile();
    if (!file) { show('jxc-imports-problems', t('choose_file')); return Promise.resolve(); }
    show('jxc-imports-problems', '');
    return dropCheck().then(function () { return send('POST', cfg.urls.preview, form(file)); }).then(function (r) {
      if (r.status !== 200) { show('jxc-imports-problems', messageOf(r.body)); return; }
      render(r.body);
      if (r.body.problems.length) { return; }
      return send('POST', cfg.urls.check, form(file)).then(function (c) {
        if (c.status !== 202) { show('jxc-imports-problems', messageOf(c.body)); return; }
        follow(c.body.job_id, 'check');
      });
    });
  }

  // A check of other rows (before an edit, another mapping) or one the import makes needless: stopped if it still
  // runs, before the next request (on SQLite it holds the write lock every write request waits for; the cancel does
  // not wait for it), and its answer no longer shown.
  function dropCheck() {
    var earlier = state.checkId;
    state.checkId = null;
    if (state.jobId === earlier) { state.jobId = null; }
    if (!earlier) { return Promise.resolve(); }
    return send('POST', cfg.urls.cancel.replace('{id}', earlier) + '?if_active=1');
  }

  // the check's refused cells, and the preview's beyond the first 1,000 a job's result names
  function checkedIssues(result) {
    var issues = result.issues.slice();
    if (result.errors > issues.length) {
      var seen = {};
      issues.forEach(function (i) { seen[i.row + ':' + i.col_index + ':' + i.message] = true; });
      state.preview.issues.forEach(function (i) {
        if (!seen[i.row + ':' + i.col_index + ':' + i.message]) { issues.push(i); }
      });
    }
    return issues;
  }

  function checkedText(job) {
    var c = job.counts || {};
    var values = {created: c.created || 0, updated: c.updated || 0, unchanged: c.unchanged || 0,
      skipped: c.skipped || 0, errors: c.errors || 0};
    if (!values.errors) { return t('checked', values); }
    return t(job.result.mode === 'valid' ? 'checked_valid' : 'checked_errors', values);
  }

  function render(preview) {
    state.preview = preview;
    state.headers = preview.headers.slice();
    state.rows = preview.rows;
    takeIssues(preview.issues);
    show('jxc-imports-problems', preview.problems.join('\n'));
    var notes = preview.notes.slice();
    if (preview.unknown_columns && preview.unknown_columns.length) {
      notes.push(t('unknown', {columns: preview.unknown_columns.join(t('list_separator'))}));
    }
    show('jxc-imports-notes', notes.join('\n'));
    renderMapping();
    renderRows();
    renderIssues();
  }

  // The refused cells shown: the check's, or those the import itself refused (a rule, a row out of the user's scope:
  // what only writing finds), which replace them once an import ends with any.
  function takeIssues(issues) {
    state.preview.issues = issues;
    state.issues = {};
    issues.forEach(function (issue) {
      var key = issue.row + ':' + (issue.col_index === null ? '' : issue.col_index);
      state.issues[key] = state.issues[key] ? state.issues[key] + '; ' + issue.message : issue.message;
    });
  }

  // --- the reasons: of the cell clicked or focused, and the list of every error -------------------

  function issueText(issue) {
    var column = issue.column || (issue.col_index === null ? '' : state.headers[issue.col_index]);
    return column ? t('cell_reason', {row: issue.row, column: column, reason: issue.message})
      : t('row_reason', {row: issue.row, reason: issue.message});
  }

  function renderIssues() {
    var list = $('jxc-imports-issue-list');
    list.textContent = '';
    state.preview.issues.forEach(function (issue, i) {
      var li = el('li');
      li.appendChild(el('a', {href: '#', 'data-issue': i}, issueText(issue)));
      list.appendChild(li);
    });
    $('jxc-imports-issues').hidden = !state.preview.issues.length;
    show('jxc-imports-reason', '');
  }

  // the reason of a preview cell (the row number cell: the row's own reason), below the table
  function showReason(td) {
    var tr = td.closest('tr[data-index]');
    var r = tr && state.rows[Number(tr.getAttribute('data-index'))];
    if (!r) { return; }
    var col = td.getAttribute('data-col');
    var reason = state.issues[r.row + ':' + (col === null ? '' : col)];
    if (!reason) { show('jxc-imports-reason', ''); return; }
    show('jxc-imports-reason', issueText({row: r.row, column: col === null ? '' : state.headers[Number(col)],
      col_index: col === null ? null : Number(col), message: reason}));
  }

  // an error of the list: its cell scrolled to and focused (rows past the shown ones: only bad rows shown)
  function goTo(issue) {
    var index = state.rows.findIndex(function (r) { return r.row === issue.row; });
    var selector = 'tr[data-index="' + index + '"]';
    var tr = $('jxc-imports-rows').querySelector(selector);
    if (!tr && !$('jxc-imports-only-bad').checked) {
      $('jxc-imports-only-bad').checked = true;
      renderRows();
      tr = $('jxc-imports-rows').querySelector(selector);
    }
    if (!tr) { return; }
    var td = issue.col_index === null ? tr.firstChild : tr.querySelector('td[data-col="' + issue.col_index + '"]');
    td.scrollIntoView({block: 'nearest', inline: 'nearest'});
    td.focus();
    showReason(td);
  }

  function renderMapping() {
    var body = $('jxc-imports-mapping-table').querySelector('tbody');
    body.textContent = '';
    state.preview.columns.forEach(function (column) {
      if (!column.header) { return; }
      var select = el('select', {'class': 'form-control input-sm', 'data-header': column.header});
      select.appendChild(el('option', {value: ''}, t('skip')));
      state.preview.fields.forEach(function (field) {
        var option = el('option', {value: field.name}, (field.required ? '*' : '') + field.label);
        if (field.name === column.field) { option.selected = true; }
        select.appendChild(option);
      });
      var tr = el('tr');
      tr.appendChild(el('th', {}, column.header));
      var td = el('td');
      td.appendChild(select);
      tr.appendChild(td);
      body.appendChild(tr);
    });
    $('jxc-imports-mapping').hidden = !state.preview.columns.length;
  }

  function renderRows() {
    var table = $('jxc-imports-rows');
    var head = table.querySelector('thead');
    var body = table.querySelector('tbody');
    head.textContent = '';
    body.textContent = '';
    var hr = el('tr');
    hr.appendChild(el('th', {}, '#'));
    state.headers.forEach(function (h) { hr.appendChild(el('th', {}, h)); });
    head.appendChild(hr);
    var onlyBad = $('jxc-imports-only-bad').checked;
    var bad = state.rows.filter(function (r) { return rowIssue(r.row) !== null; });
    var rows = onlyBad ? bad : state.rows;
    rows.slice(0, SHOWN).forEach(function (r) {
      var index = state.rows.indexOf(r);
      var tr = el('tr', {'data-index': index});
      var rowProblem = state.issues[r.row + ':'];
      var num = el('td', {'class': rowProblem ? 'jxc-bad' : ''}, r.row);
      if (rowProblem) { num.title = rowProblem; num.tabIndex = -1; }
      tr.appendChild(num);
      state.headers.forEach(function (h, col) {
        var td = el('td', {contenteditable: 'true', 'data-col': col}, r.cells[col] || '');
        var problem = state.issues[r.row + ':' + col];
        if (problem) {
          td.className = 'jxc-bad';
          td.title = problem;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var summary = t('summary', {rows: state.rows.length, bad: bad.length, errors: state.preview.issues.length});
    if (rows.length > SHOWN) { summary += ' ' + t('showing', {shown: SHOWN, total: rows.length}); }
    $('jxc-imports-summary').textContent = summary;
    var columnSelect = $('jxc-bulk-column');
    var chosen = columnSelect.value;  // the column a bulk fix works on stays chosen after it
    columnSelect.textContent = '';
    state.headers.forEach(function (h, col) { columnSelect.appendChild(el('option', {value: col}, h)); });
    if (chosen !== '' && Number(chosen) < state.headers.length) { columnSelect.value = chosen; }
    $('jxc-imports-preview').hidden = false;
  }

  function rowIssue(row) {
    var prefix = row + ':';
    var found = Object.keys(state.issues).filter(function (k) { return k.indexOf(prefix) === 0; });
    return found.length ? found : null;
  }

  // a column at once: trim, replace a text inside cells, or map whole values (是 -> 1)
  function bulk() {
    var col = Number($('jxc-bulk-column').value);
    var op = $('jxc-bulk-op').value;
    var from = $('jxc-bulk-from').value;
    var to = $('jxc-bulk-to').value;
    state.rows.forEach(function (r) {
      var value = r.cells[col] === undefined ? '' : String(r.cells[col]);
      if (op === 'trim') { value = value.trim(); }
      if (op === 'replace' && from) { value = value.split(from).join(to); }
      if (op === 'map' && value === from) { value = to; }
      r.cells[col] = value;
    });
    state.edited = true;
    renderRows();
  }

  function apply() {
    var file = currentFile();
    if (!file) { show('jxc-imports-problems', t('choose_file')); return; }
    dropCheck().then(function () { return send('POST', cfg.urls.upload, form(file)); }).then(function (r) {
      if (r.status !== 202) { show('jxc-imports-problems', messageOf(r.body)); return; }
      follow(r.body.job_id, 'import');
    });
  }

  // a job's progress and end: `kind` is 'import', 'check' or 'undo'
  function follow(jobId, kind) {
    var box = $('jxc-imports-job');
    var bar = box.querySelector('.progress-bar');
    var cancel = box.querySelector('[data-import-action="cancel"]');
    cancel.textContent = t(kind === 'check' ? 'cancel_check' : 'cancel');  // a check writes nothing: not 取消导入
    state.jobId = jobId;
    if (kind === 'check') { state.checkId = jobId; }
    box.hidden = false;
    $('jxc-imports-errors').hidden = true;
    $('jxc-imports-grid').hidden = true;
    box.querySelector('[data-import-action="undo"]').hidden = true;  // only an applied import offers it
    if (kind !== 'undo') { state.importId = null; }
    bar.className = 'progress-bar progress-bar-striped active';
    bar.style.width = '0%';  // a new job's bar starts empty (not at the end of the check before it)
    box.querySelector('.progress').setAttribute('aria-valuenow', 0);
    if (kind !== 'undo') { $('jxc-imports-job-text').textContent = t(kind === 'check' ? 'check_starting' : 'starting'); }
    function poll() {
      if (state.jobId !== jobId) { return; }  // another job (a check of edited rows, the import) follows on
      send('GET', cfg.urls.job.replace('{id}', jobId)).then(function (r) {
        if (state.jobId !== jobId) { return; }
        var job = r.body;
        var percent = job.percent === null || job.percent === undefined ? 5 : job.percent;
        bar.style.width = percent + '%';
        box.querySelector('.progress').setAttribute('aria-valuenow', percent);
        var checking = kind === 'check';
        $('jxc-imports-job-text').textContent = job.total
          ? t(checking ? 'check_running' : 'running', {done: job.done || 0, total: job.total})
          : job.status === 'queued' && job.message ? job.message  // waiting its turn for a while: it says so
            : t(checking ? 'check_starting' : 'starting');  // no rows counted yet (queued, the file being read)
        cancel.hidden = !(job.status === 'queued' || job.status === 'running');
        if (!cancel.hidden) { window.setTimeout(poll, POLL_MS); return; }
        if (state.checkId === jobId) { state.checkId = null; }  // ended: nothing to stop
        if (state.resumed) { state.resumed = false; show('jxc-imports-notes', ''); }
        var clean = job.status === 'done' && !(checking && job.counts && job.counts.errors);
        bar.className = 'progress-bar ' + (clean ? 'progress-bar-success' : 'progress-bar-danger');
        bar.style.width = '100%';
        // the error report lists the refused rows, or the rows skipped by 只导入正确的行
        if (kind !== 'undo' && job.error_report_url) {
          var link = $('jxc-imports-errors');
          link.href = cfg.urls.errors.replace('{id}', jobId);
          link.hidden = false;
        }
        var refused = kind !== 'undo' && state.preview && job.result ? job.result.issues : null;
        if (refused && (refused.length || checking)) {
          takeIssues(checking ? checkedIssues(job.result) : refused);
          renderRows();
          renderIssues();
        }
        if (checking && job.status === 'done' && job.result.problems.length) {
          show('jxc-imports-problems', job.result.problems.join('\n'));  // the same file imported before
        }
        if (job.status !== 'done') {
          $('jxc-imports-job-text').textContent = job.message || job.status_label;
          return;
        }
        if (checking) {
          $('jxc-imports-job-text').textContent = checkedText(job);
          return;
        }
        if (kind === 'undo') {
          state.importId = null;
          $('jxc-imports-job-text').textContent = t('undone', {deleted: job.result.deleted, restored: job.result.restored});
          return;
        }
        var c = job.counts || {};
        $('jxc-imports-job-text').textContent = t(c.unchanged ? 'done_unchanged' : 'done',
          {created: c.created || 0, updated: c.updated || 0, unchanged: c.unchanged || 0, skipped: c.skipped || 0});
        state.importId = job.result && job.result.import_id;
        box.querySelector('[data-import-action="undo"]').hidden = !state.importId;
        $('jxc-imports-grid').hidden = false;
      });
    }
    poll();
  }

  function undo() {
    if (!state.importId) { return; }
    send('POST', cfg.urls.undo.replace('{id}', state.importId)).then(function (r) {
      if (r.status !== 202) { show('jxc-imports-problems', messageOf(r.body)); return; }
      follow(r.body.job_id, 'undo');
    });
  }

  function cancelJob() {
    if (!state.jobId) { return; }
    send('POST', cfg.urls.cancel.replace('{id}', state.jobId)).then(function (r) {
      if (r.status >= 400) { show('jxc-imports-problems', messageOf(r.body)); }
    });
  }

  // an import started here before the page was left or reloaded: its progress again, and its end
  if (cfg.active_job) {
    state.resumed = true;
    show('jxc-imports-notes', t('still_running'));
    follow(cfg.active_job, 'import');
  }

  root.addEventListener('click', function (event) {
    var button = event.target.closest('[data-import-action]');
    if (!button) { return; }
    var action = button.getAttribute('data-import-action');
    if (action === 'check') { check(); }
    if (action === 'bulk') { bulk(); }
    if (action === 'apply') { apply(); }
    if (action === 'undo') { undo(); }
    if (action === 'cancel') { cancelJob(); }
  });
  root.addEventListener('click', function (event) {
    var link = event.target.closest('[data-issue]');
    if (link) {
      event.preventDefault();
      goTo(state.preview.issues[Number(link.getAttribute('data-issue'))]);
      return;
    }
    var td = event.target.closest('#jxc-imports-rows td');
    if (td) { showReason(td); }
  });
  root.addEventListener('focusin', function (event) {
    var td = event.target.closest('#jxc-imports-rows td');
    if (td) { showReason(td); }
  });
  root.addEventListener('change', function (event) {
    var target = event.target;
    if (target.id === 'jxc-imports-file') {
      state.edited = false;
      state.mapping = {};
      check();
    } else if (target.getAttribute('data-header') !== null) {
      state.mapping = {};
      root.querySelectorAll('select[data-header]').forEach(function (select) {
        state.mapping[select.getAttribute('data-header')] = select.value;
      });
      check();
    } else if (target.id === 'jxc-imports-only-bad') {
      renderRows();
    }
  });
  // a cell fixed in place
  root.addEventListener('input', function (event) {
    var td = event.target.closest('td[data-col]');
    if (!td) { return; }
    var tr = td.closest('tr[data-index]');
    state.rows[Number(tr.getAttribute('data-index'))].cells[Number(td.getAttribute('data-col'))] = td.textContent;
    state.edited = true;
  });
}());
