// The notification bell in every page's header (jxc/_bell.html). The unread count is polled from
// GET /api/v1/notifications/count (one indexed count) every data-poll seconds and when the tab comes back
// into view, so it changes without reloading the page; opening the bell loads the newest notifications.
// Opening one goes through /notifications/<id>/open, which marks it read; ✓ marks one read in place. One about a
// deleted record (record_deleted) is shown greyed with 记录已删除 and leads nowhere (its id may be another's now).
(function () {
  'use strict';

  var bell = document.getElementById('jxc-bell');
  if (!bell || bell.dataset.ready) { return; }
  bell.dataset.ready = '1';
  var badge = document.getElementById('jxc-bell-count');
  var end = document.getElementById('jxc-bell-end');
  var every = Math.max(parseFloat(bell.dataset.poll) || 60, 1) * 1000;
  var stopped = false;

  function show(count) {
    badge.textContent = String(count);
    badge.hidden = !count;
    bell.dataset.unread = String(count);
  }

  function request(url, options) {
    options = options || {};
    options.credentials = 'same-origin';
    options.headers = Object.assign({Accept: 'application/json'}, options.headers || {});
    return fetch(url, options).then(function (response) {
      if (response.status === 401 || response.status === 403) { stopped = true; }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function poll() {
    if (stopped || document.hidden) { return; }
    request(bell.dataset.countUrl).then(function (body) { show(body.unread); }).catch(function () {});
  }

  function markRead(ids) {
    return request(bell.dataset.readUrl, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': bell.dataset.csrf},
      body: JSON.stringify(ids ? {ids: ids} : {})
    }).then(function (body) { show(body.unread); });
  }

  function item(note) {
    var li = document.createElement('li');
    li.className = 'jxc-bell-item' + (note.read ? '' : ' jxc-unread') + (note.record_deleted ? ' jxc-record-deleted' : '');
    li.dataset.id = String(note.id);
    // a deleted record's: a line that is no link (an <a> without href, so the menu's layout stays)
    var link = document.createElement('a');
    if (note.record_deleted) {
      link.setAttribute('aria-disabled', 'true');
    } else {
      link.href = bell.dataset.openUrl.replace(/\/0\/open$/, '/' + note.id + '/open');
    }
    link.className = 'jxc-bell-link';
    var text = document.createElement('span');
    text.className = 'jxc-bell-text';
    text.textContent = note.text;
    var when = document.createElement('small');
    when.className = 'text-muted';
    when.textContent = note.created_at;
    link.appendChild(text);
    if (note.record_deleted) {
      var gone = document.createElement('span');
      gone.className = 'label label-default jxc-record-deleted-tag';
      gone.textContent = bell.dataset.deleted;
      link.appendChild(document.createTextNode(' '));
      link.appendChild(gone);
    }
    link.appendChild(document.createElement('br'));
    link.appendChild(when);
    li.appendChild(link);
    if (!note.read) {
      var mark = document.createElement('button');
      mark.type = 'button';
      mark.className = 'btn btn-link btn-xs jxc-bell-mark';
      mark.title = bell.dataset.mark;
      mark.setAttribute('aria-label', bell.dataset.mark);
      mark.textContent = '✓';
      mark.addEventListener('click', function (event) {
        event.preventDefault();
        event.stopPropagation();
        markRead([note.id]).then(function () { li.classList.remove('jxc-unread'); mark.remove(); });
      });
      li.appendChild(mark);
    }
    return li;
  }

  function load() {
    request(bell.dataset.listUrl).then(function (body) {
      show(body.unread);
      Array.prototype.forEach.call(bell.querySelectorAll('.jxc-bell-item'), function (li) { li.remove(); });
      var notes = body.result.slice(0, 10);
      if (!notes.length) {
        var empty = document.createElement('li');
        empty.className = 'jxc-bell-item jxc-bell-empty dropdown-header';
        empty.textContent = bell.dataset.empty;
        end.parentNode.insertBefore(empty, end);
      }
      notes.forEach(function (note) { end.parentNode.insertBefore(item(note), end); });
      bell.dataset.loaded = '1';
    }).catch(function () {});
  }

  document.getElementById('jxc-bell-toggle').addEventListener('click', load);
  document.getElementById('jxc-bell-read-all').addEventListener('click', function (event) {
    event.preventDefault();
    event.stopPropagation();
    markRead(null).then(load);
  });
  document.addEventListener('visibilitychange', poll);
  window.setInterval(poll, every);
}());
