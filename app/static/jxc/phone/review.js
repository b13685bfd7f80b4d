// Reviewing a stocktake on the phone before it is submitted (审核): the page shows the variance the server
// computed; here the counts still on this phone hold the submit back (they would not be counted), a line that
// differs needs its reason, and 审核 asks to be confirmed. Confirmed, the reasons chosen are saved on their lines
// (POST /api/v1/phone/stocktake/<id>/reasons) and the stocktake is submitted through its own API
// (POST /api/v1/stocktake/<id>/submit), both with the version the page was read at: changed meanwhile, nothing
// is submitted and the page says to review again. Refusals are said on the page, next to their line.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var config = P.config;
  var busy = false; // a submit under way: a second tap does nothing
  var KEPT = config.storage + '.reasons'; // the reasons chosen, kept across 重新核对 (sessionStorage)
  var submit = document.getElementById('ph-submit'), confirmBox = document.getElementById('ph-confirm');
  var result = document.getElementById('ph-result'), unsent = document.getElementById('ph-unsent');

  // counts kept on this phone for this stocktake and not yet on it (the counting page's localStorage)
  function unsentCount() {
    try {
      var saved = JSON.parse(localStorage.getItem(config.storage) || 'null') || {};
      return (saved.pending || []).length + (saved.batch ? saved.batch.counts.length : 0);
    } catch { return 0; }
  }

  function lineError(li, words) {
    var box = li.querySelector('.ph-line-error');
    box.textContent = words;
    box.hidden = !words;
  }

  function clearErrors() {
    document.querySelectorAll('#ph-review-lines .ph-line').forEach(function (li) { lineError(li, ''); });
  }

  // the reasons to save: a line that differs and whose reason was chosen (or changed) here
  function chosenReasons() {
    return Array.prototype.filter.call(document.querySelectorAll('.ph-reason-select'), function (select) {
      return select.value && select.value !== select.getAttribute('data-was');
    }).map(function (select) { return { line: Number(select.getAttribute('data-line')), reason: select.value }; });
  }

  // lines that differ and still have no reason: said next to each; the first is shown
  function missingReasons() {
    var missing = Array.prototype.filter.call(document.querySelectorAll('.ph-reason-select'), function (select) {
      return !select.value;
    });
    missing.forEach(function (select) { lineError(select.closest('.ph-line'), P.text('review_pick_reason')); });
    if (missing.length) { missing[0].scrollIntoView({ block: 'center' }); missing[0].focus(); }
    return missing.length;
  }

  function reloadButton() {
    var again = document.createElement('button');
    again.type = 'button';
    again.className = 'ph-btn';
    again.id = 'ph-review-again';
    again.textContent = P.text('review_reload');
    again.addEventListener('click', function () {
      keepChoices();
      window.location.reload();
    });
    result.appendChild(document.createElement('br'));
    result.appendChild(again);
  }

  // the reasons chosen here outlive 重新核对 (the page read again), put back on the lines still without one
  function keepChoices() {
    var chosen = {};
    chosenReasons().forEach(function (r) { chosen[r.line] = r.reason; });
    sessionStorage.setItem(KEPT, JSON.stringify(chosen));
  }
  function restoreChoices() {
    var chosen = {};
    try { chosen = JSON.parse(sessionStorage.getItem(KEPT) || '{}') || {}; } catch { chosen = {}; }
    sessionStorage.removeItem(KEPT);
    document.querySelectorAll('.ph-reason-select').forEach(function (select) {
      var kept = chosen[select.getAttribute('data-line')];
      if (kept && !select.value && !select.disabled) { select.value = kept; }
    });
  }

  // a refusal: a changed stocktake (409) asks for another look; a cell error is said on its line
  function refused(answer) {
    var body = answer.body || {};
    if (answer.status === 409) {
      var said = typeof body.message === 'string' ? body.message : '';
      P.show(result, P.text('review_changed') + (said ? '（' + said + '）' : ''), 'error');
      reloadButton();
      return;
    }
    if (answer.status === 404) { // deleted meanwhile, or no longer in the reader's warehouses
      P.show(result, P.text('review_refused') + P.text('review_gone'), 'error');
      return;
    }
    var general = [];
    (Array.isArray(body.errors) ? body.errors : []).forEach(function (error) {
      var match = /^lines\.(\d+)\./.exec(error.field || '');
      var li = match ? document.querySelector('#ph-review-lines [data-index="' + match[1] + '"]') : null;
      if (li) { lineError(li, error.message); } else { general.push(error.message); }
    });
    if (!general.length && !(body.errors || []).length) { general.push(P.errorText(answer)); }
    P.show(result, P.text('review_refused') + general.join('；'), 'error');
    var first = document.querySelector('.ph-line-error:not([hidden])');
    if (first && !general.length) { first.scrollIntoView({ block: 'center' }); }
  }

  function done(answer) {
    var body = answer.body || {};
    var pending = body.result && body.result.status === 'pending';
    var words = pending ? [P.text('review_pending')] : [];
    words.push(body.message || P.text('review_posted'));
    (body.warnings || []).forEach(function (w) { words.push(typeof w === 'string' ? w : w.message); });
    P.show(result, words.join(' '), pending ? 'warn' : 'ok');
    var back = document.createElement('a');
    back.className = 'ph-btn';
    back.id = 'ph-back-list';
    back.href = config.list_page;
    back.textContent = P.text('review_back_list');
    result.appendChild(document.createElement('br'));
    result.appendChild(back);
    // submitted: its status shown, and every way back leads to the list, none to counting what can no longer be
    // counted (the counting page of a submitted stocktake only says so)
    var status = body.result && config.statuses[body.result.status];
    if (status) { document.getElementById('ph-status').textContent = status; }
    document.getElementById('ph-back-note').hidden = true;
    var head = document.getElementById('ph-back');
    head.href = config.list_page;
    head.setAttribute('aria-label', P.text('review_back_list'));
    document.getElementById('ph-submit-bar').hidden = true;
    var needs = document.getElementById('ph-needs-reason');
    if (needs) { needs.hidden = true; }
    document.querySelectorAll('.ph-reason-select').forEach(function (select) { select.disabled = true; });
    localStorage.removeItem(config.storage);
  }

  function offline() {
    busy = false;
    P.show(result, P.text('review_offline'), 'error');
    submit.disabled = false;
  }

  function post() {
    busy = true;
    confirmBox.hidden = true;
    submit.disabled = true;
    clearErrors();
    P.show(result, P.text('review_saving'), '');
    var reasons = chosenReasons();
    var saved = reasons.length
      ? P.call('POST', '/api/v1/phone/stocktake/' + config.stocktake + '/reasons', { version: config.version, reasons: reasons })
      : Promise.resolve({ status: 200, body: { version: config.version } });
    saved.then(function (answer) {
      if (answer.status !== 200) { return answer; }
      config.version = answer.body.version;
      reasons.forEach(function (r) {
        document.querySelector('.ph-reason-select[data-line="' + r.line + '"]').setAttribute('data-was', r.reason);
      });
      return P.call('POST', '/api/v1/stocktake/' + config.stocktake + '/submit', { version: config.version });
    }).then(function (answer) {
      busy = false;
      if (answer.status === 200) { done(answer); return; }
      submit.disabled = false;
      refused(answer);
    }, offline);
  }

  if (submit) {
    submit.addEventListener('click', function () {
      if (busy) { return; }
      P.show(result, '', '');
      clearErrors();
      var left = unsentCount();
      if (left) { P.show(unsent, P.text('review_unsent', { count: left }), 'warn'); unsent.scrollIntoView(); return; }
      if (missingReasons()) { return; }
      confirmBox.hidden = false;
      confirmBox.scrollIntoView({ block: 'center' });
      document.getElementById('ph-confirm-yes').focus();
    });
    document.getElementById('ph-confirm-yes').addEventListener('click', function () { if (!busy) { post(); } });
    document.getElementById('ph-confirm-no').addEventListener('click', function () {
      confirmBox.hidden = true;
      submit.focus();
    });
    document.querySelectorAll('.ph-reason-select').forEach(function (select) {
      select.addEventListener('change', function () {
        lineError(select.closest('.ph-line'), '');
        var needs = document.getElementById('ph-needs-reason'); // said while a line still has none
        if (needs) { needs.hidden = Array.prototype.every.call(document.querySelectorAll('.ph-reason-select'), function (s) { return s.value; }); }
      });
    });
  }
  restoreChoices();
  var left = unsentCount();
  if (left && config.draft) { P.show(unsent, P.text('review_unsent', { count: left }), 'warn'); }
}());
