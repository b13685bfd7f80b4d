// The backups page after 立即备份 or 恢复: follow that job and show the page again when it has ended, so its outcome
// (上次备份 / 上次恢复, the new file in the list) is seen without reloading by hand.
(function () {
  'use strict';
  var root = document.getElementById('jxc-backups');
  if (!root || !root.dataset.job) { return; }
  var POLL_MS = 1000;

  function again() { window.location.replace(window.location.pathname); }

  function poll() {
    fetch('/api/v1/jobs/' + encodeURIComponent(root.dataset.job), {credentials: 'same-origin'})
      .then(function (r) {
        if (r.status === 404) { again(); return null; }  // a restore replaced the table that held the job
        return r.ok ? r.json() : null;  // 503 while a restore switches databases: ask again
      })
      .then(function (job) {
        if (job && job.status !== 'queued' && job.status !== 'running') { again(); return; }
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
  }
  poll();
}());
