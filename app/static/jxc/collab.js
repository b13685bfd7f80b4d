// A record's collaboration panel: timeline (comments, attachments, approvals, changes), comments with
// @mentions, attachments, owner and followers, complaint steps. Other users' activity appears without a
// reload: the page polls the record's cheap cursor and fetches the timeline again when it moves.
(function () {
  'use strict';
  var root = document.getElementById('jxc-collab');
  if (!root) { return; }
  var cfg = JSON.parse(root.getAttribute('data-config'));
  var T = cfg.texts;
  var cursor = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function showError(text) {
    var box = document.getElementById('jxc-collab-error');
    box.textContent = text || '';
    box.hidden = !text;
  }

  function messageOf(body) {
    if (!body) { return T.network; }
    if (body.errors && body.errors.length) { return body.errors.map(function (e) { return e.message; }).join('；'); }
    return typeof body.message === 'string' ? body.message : T.network;
  }

  function call(method, url, body, isForm) {
    var headers = {'Accept': 'application/json', 'X-CSRFToken': cfg.csrf_token};
    var options = {method: method, credentials: 'same-origin', headers: headers};
    if (body !== undefined) {
      if (isForm) { options.body = body; } else {
        headers['Content-Type'] = 'application/json';
        options.body = JSON.stringify(body);
      }
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) { throw new Error(messageOf(data)); }
        return data;
      });
    });
  }

  function withMentions(node, text) {
    var parts = text.split(/(@[\w.-]+)/);
    parts.forEach(function (part) {
      if (/^@[\w.-]+$/.test(part)) { node.appendChild(el('span', 'jxc-mention', part)); }
      else { node.appendChild(document.createTextNode(part)); }
    });
  }

  function describeNode(d) {
    var box = el('div', 'jxc-timeline-changes');
    if (!d) { return box; }
    if (d.changes) {
      d.changes.forEach(function (c) {
        box.appendChild(el('div', 'jxc-change', c.label + '：' + c.before + ' → ' + c.after));
      });
    } else if (d.values) {
      box.appendChild(el('div', 'jxc-change-values', d.values.map(function (v) { return v.label + '：' + v.value; }).join('；')));
    }
    return box;
  }

  function entryNode(e) {
    var li = el('li', 'jxc-timeline-entry jxc-timeline-' + e.kind);
    li.setAttribute('data-kind', e.kind);
    var head = el('div', 'jxc-timeline-head');
    head.appendChild(el('strong', null, e.user || ''));
    var what = e.kind === 'comment' ? T.commented : e.kind === 'attachment' ? T.attached
      : (cfg.actions[e.action] || e.action);
    head.appendChild(document.createTextNode(' ' + what + ' · '));
    head.appendChild(el('span', 'text-muted', e.at_text || e.at));
    li.appendChild(head);
    if (e.kind === 'comment') {
      var body = el('div', 'jxc-comment-body');
      withMentions(body, e.body);
      li.appendChild(body);
    } else if (e.kind === 'attachment') {
      var link = el('a', 'jxc-attachment-link', e.filename);
      link.href = e.url;
      li.appendChild(link);
    } else {
      if (e.after && e.after.comment) { li.appendChild(el('div', 'jxc-approval-comment', e.after.comment)); }
      li.appendChild(describeNode(e.describe));
    }
    return li;
  }

  function loadTimeline() {
    return call('GET', cfg.api + '/timeline').then(function (data) {
      cursor = data.cursor;
      var list = document.getElementById('jxc-timeline');
      list.textContent = '';
      data.result.forEach(function (e) { list.appendChild(entryNode(e)); });
      var files = document.getElementById('jxc-attachments');
      files.textContent = '';
      data.result.filter(function (e) { return e.kind === 'attachment'; }).forEach(function (e) {
        var li = el('li');
        var a = el('a', 'jxc-attachment-link', e.filename);
        a.href = e.url;
        li.appendChild(a);
        li.appendChild(document.createTextNode(' · ' + e.user + ' · ' + (e.at_text || e.at)));
        files.appendChild(li);
      });
    }).catch(function (err) { showError(err.message); });
  }

  function poll() {
    call('GET', cfg.api + '/cursor').then(function (data) {
      if (cursor !== null && data.cursor !== cursor) {
        var flag = document.getElementById('jxc-activity-new');
        flag.hidden = false;
        setTimeout(function () { flag.hidden = true; }, 3000);
        return loadTimeline();
      }
      return null;
    }).catch(function () { /* a missed poll is retried at the next tick */ })
      .then(function () { setTimeout(poll, cfg.poll_ms); });
  }

  document.getElementById('jxc-comment-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var box = document.getElementById('jxc-comment-body');
    var note = document.getElementById('jxc-comment-note');
    showError('');
    call('POST', cfg.api + '/comments', {body: box.value}).then(function (data) {
      box.value = '';
      var parts = [];
      if (data.result.mentions.length) { parts.push(T.mentions + '：' + data.result.mentions.join('、')); }
      if (data.result.not_notified.length) { parts.push(T.not_notified + '：' + data.result.not_notified.join('、')); }
      note.textContent = parts.join('；');
      return loadTimeline();
    }).catch(function (err) { showError(err.message); });
  });

  var upload = document.getElementById('jxc-upload');
  if (upload) {
    upload.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var input = document.getElementById('jxc-upload-file');
      if (!input.files.length) { return; }
      var form = new FormData();
      form.append('file', input.files[0]);
      showError('');
      call('POST', cfg.api + '/attachments', form, true).then(function () {
        input.value = '';
        return loadTimeline();
      }).catch(function (err) { showError(err.message); });
    });
  }

  function showWatchers(w) {
    document.getElementById('jxc-owner').textContent = w.owner || T.nobody;
    document.getElementById('jxc-followers').textContent = w.followers.length ? w.followers.join('、') : '—';
    var button = document.getElementById('jxc-follow');
    button.textContent = w.following ? T.unfollow : T.follow;
    button.setAttribute('data-following', w.following ? '1' : '0');
    document.getElementById('jxc-assign-box').hidden = !w.can_assign;
  }

  if (cfg.watchable) {
    call('GET', cfg.api + '/watchers').then(function (d) { showWatchers(d.result); })
      .catch(function (err) { showError(err.message); });
    document.getElementById('jxc-follow').addEventListener('click', function (ev) {
      var on = ev.target.getAttribute('data-following') !== '1';
      call(on ? 'POST' : 'DELETE', cfg.api + '/follow').then(function (d) { showWatchers(d.result); })
        .catch(function (err) { showError(err.message); });
    });
    document.getElementById('jxc-assign').addEventListener('click', function () {
      var name = document.getElementById('jxc-assign-user').value.trim();
      showError('');
      call('PUT', cfg.api + '/owner', {owner: name || null}).then(function (d) {
        showWatchers(d.result);
        return loadTimeline();
      }).catch(function (err) { showError(err.message); });
    });
  }

  if (cfg.complaint) {
    var buttons = root.querySelector('.jxc-complaint-buttons');
    var resolution = document.getElementById('jxc-complaint-resolution');
    resolution.hidden = cfg.complaint.steps.indexOf('resolve') < 0;
    cfg.complaint.steps.forEach(function (step) {
      var b = el('button', 'btn btn-sm ' + (step === 'close' ? 'btn-warning' : 'btn-success'), cfg.complaint.step_labels[step]);
      b.type = 'button';
      b.id = 'jxc-complaint-' + step;
      b.addEventListener('click', function () {
        var body = step === 'resolve' ? {resolution: resolution.value} : {};
        showError('');
        call('POST', '/api/v1/complaints/' + cfg.pk + '/' + step, body).then(function () {
          window.location.reload();
        }).catch(function (err) { showError(err.message); });
      });
      buttons.appendChild(b);
    });
  }

  var newForm = document.getElementById('jxc-new-complaint-form');
  if (newForm) {
    newForm.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = {};
      ['summary', 'type', 'severity', 'description'].forEach(function (name) {
        body[name] = newForm.elements[name].value;
      });
      showError('');
      call('POST', cfg.new_complaint.api, body).then(function (data) {
        window.location.href = '/m/complaint/' + data.id;
      }).catch(function (err) { showError(err.message); });
    });
  }

  var partnerList = document.getElementById('jxc-partner-complaints');
  if (partnerList) {
    call('GET', cfg.partner_complaints).then(function (data) {
      partnerList.textContent = '';
      if (!data.result.length) { partnerList.appendChild(el('li', 'text-muted', T.no_complaints)); }
      data.result.forEach(function (c) {
        var li = el('li');
        var a = el('a', null, c.number + ' ' + c.summary);
        a.href = '/m/complaint/' + c.id;
        li.appendChild(a);
        li.appendChild(document.createTextNode(' · ' + (c.due_date || '')));
        li.setAttribute('data-status', c.status);
        partnerList.appendChild(li);
      });
    }).catch(function (err) { showError(err.message); });
  }

  loadTimeline().then(function () { setTimeout(poll, cfg.poll_ms); });
}());
