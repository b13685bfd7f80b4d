// The pending store: the user's unsaved values per row, flushed to the batch API as one batch; the
// answers 200 (saved), 422 (red cells, nothing saved) and 409 (someone else changed the rows);
// save, discard, settle, and undo / redo of whole batches on the server.
(function (G) {
  'use strict';

  // Add the pending store's functions to the grid instance g (the store itself is g.state.pending).
  G.gridStore = function (g) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var byField = g.byField;
    var request = g.request;
    var uuid = G.uuid;

    // --- the pending store -----------------------------------------------------------------------

    function hasPending() { return Object.keys(state.pending).length > 0; }

    // A loaded row shows the user's unsaved values and their errors on top of the server's values.
    function mergePending(row) {
      var rec = state.pending[String(row.id)];
      if (!rec) { return row; }
      Object.keys(rec.values).forEach(function (f) { row[f] = rec.values[f]; });
      row._pending = marks(rec.values);
      row._errors = Object.assign({}, rec.errors);
      return row;
    }

    function marks(values) {
      var out = {};
      Object.keys(values).forEach(function (f) { out[f] = true; });
      return out;
    }

    function newRowData(rec) {
      var data = {_tmp: rec.tmp_id, _new: true, _pending: marks(rec.values), _errors: Object.assign({}, rec.errors)};
      Object.keys(rec.values).forEach(function (f) { data[f] = rec.values[f]; });
      return data;
    }

    function recordFor(data) {
      var key = g.rowKey(data);
      if (!state.pending[key]) {
        state.pending[key] = data._tmp
          ? {tmp_id: data._tmp, values: {}, errors: {}, manual: !!data._new, shown: true}
          : {id: data.id, version: data.version, values: {}, errors: {}};
      }
      return state.pending[key];
    }

    function setPendingValue(row, field, value) {
      var data = row.getData();
      var rec = recordFor(data);
      rec.values[field] = value === undefined ? null : value;
      delete rec.errors[field];
      data._pending = marks(rec.values);
      data._errors = Object.assign({}, rec.errors);
      state.dirty = true;
      return rec;
    }

    function onCellEdited(cell) {
      var row = cell.getRow();
      var rec = setPendingValue(row, cell.getField(), cell.getValue());
      state.sumsFresh = false;
      row.reformat();
      if (!rec.manual) { scheduleFlush(); }
    }

    function scheduleFlush() {
      window.clearTimeout(state.flushTimer);
      state.flushTimer = window.setTimeout(function () { state.flushTimer = null; flush(); }, 400);
    }

    function opsFromPending(includeManual) {
      var ops = [];
      var keys = [];
      Object.keys(state.pending).forEach(function (key) {
        var rec = state.pending[key];
        if (rec.tmp_id) {
          if ((rec.manual && !includeManual) || !Object.keys(rec.values).length) { return; }
          ops.push({op: 'create', tmp_id: rec.tmp_id, values: Object.assign({}, rec.values)});
        } else {
          if (!Object.keys(rec.values).length) { return; }
          ops.push({op: 'update', id: rec.id, version: rec.version, values: Object.assign({}, rec.values)});
        }
        keys.push(key);
      });
      return {ops: ops, keys: keys};
    }

    // Send the pending changes as one batch. opts: {manual: include new rows, force: send even if
    // nothing changed since a refusal, reload: reload the page after success}.
    function flush(opts) {
      opts = opts || {};
      window.clearTimeout(state.flushTimer);
      state.flushTimer = null;
      if (state.inflight) {
        return state.inflight.then(function () { return flush(opts); });
      }
      if (!state.dirty && !opts.force) { return Promise.resolve(null); }
      var batch = opsFromPending(!!opts.manual);
      if (!batch.ops.length) { state.dirty = false; return Promise.resolve(null); }
      if (batch.ops.length > cfg.max_batch_rows) {
        g.showBanner('error', t('too_many', cfg.max_batch_rows));
        return Promise.resolve(null);
      }
      state.dirty = false;
      var source = state.pendingSource;
      g.setStatus(t('saving'), true);
      state.inflight = request('POST', urls.batch, {client_batch_id: uuid(), source: source, ops: batch.ops})
        .then(function (r) { return handleResult(r, batch, opts); })
        .then(function (r) { state.inflight = null; return r; }, function (e) { state.inflight = null; throw e; });
      return state.inflight;
    }

    function handleResult(r, batch, opts) {
      if (r.status === 200) {
        saved(r.body, batch, opts);
      } else if (r.status === 422) {
        refused(r.body);
        g.setStatus('');
      } else if (r.status === 409) {
        conflicted(r.body, opts);
        g.setStatus('');
      } else {
        var message = r.body.message || ('HTTP ' + r.status);
        if (typeof message !== 'string') { message = JSON.stringify(message); }
        g.showBanner('error', message);
        g.setStatus('');
      }
      return r;
    }

    function pushUndo(batchId) {
      if (batchId === undefined || batchId === null) { return; }
      state.undoStack.unshift(batchId);
      state.redoStack = [];
      g.syncButtons();
    }

    // 200: drop the sent values that were not changed again meanwhile, show the saved rows.
    function saved(body, batch, opts) {
      var onScreen = g.pageRows().map(function (row) { return g.rowKey(row.getData()); });
      var sent = {};
      batch.ops.forEach(function (op) { sent[op.tmp_id ? String(op.tmp_id) : String(op.id)] = op.values || {}; });
      var byKey = {};
      (body.rows || []).forEach(function (row) { byKey[row.tmp_id ? String(row.tmp_id) : String(row.id)] = row; });
      batch.keys.forEach(function (key) {
        var rec = state.pending[key];
        if (!rec) { return; }
        var values = sent[key] || {};
        Object.keys(values).forEach(function (f) {
          if (rec.values[f] === values[f]) { delete rec.values[f]; }
        });
        rec.errors = {};
        var fresh = byKey[key];
        if (fresh) {
          rec.version = fresh.version;
          if (rec.tmp_id) {  // the row exists now: its further edits are updates
            rec.id = fresh.id;
            delete rec.tmp_id;
            rec.manual = false;
            rec.shown = false;
          }
        }
        delete state.pending[key];
        if (Object.keys(rec.values).length) { state.pending[String(rec.id || rec.tmp_id)] = rec; state.dirty = true; }
      });
      pushUndo(body.batch_id);
      g.hideBanner();
      g.setStatus(t('saved_rows', batch.ops.length), 8000);
      state.pendingSource = 'edit';
      // a replayed retry answers without the tmp ids of created rows, so show the page afresh
      if (opts.reload || body.replayed) {
        keepCreated(body.rows || [], onScreen, opts.bounds);
        return g.reloadPage();
      }
      (body.rows || []).forEach(function (row) {
        var key = row.tmp_id ? String(row.tmp_id) : String(row.id);
        var pageRow = g.pageRowByKey(key);
        if (!pageRow) { return; }
        var rec = state.pending[String(row.id)];
        var data = Object.assign({}, row, {_tmp: null, _new: false, _errors: {}, _pending: {}});
        if (rec) {
          Object.keys(rec.values).forEach(function (f) { data[f] = rec.values[f]; });
          data._pending = marks(rec.values);
        }
        delete data.tmp_id;
        pageRow.update(data).then(function () { pageRow.reformat(); });
      });
      (body.deleted || []).forEach(function (id) {
        var pageRow = g.pageRowByKey(id);
        if (pageRow) { pageRow.delete(); }
      });
      state.sumsFresh = false;
      g.table.recalc();
      if (state.dirty) { scheduleFlush(); }
    }

    // After a reload the rows this batch created stay where they were on screen (above the server's
    // order) until the next reload, and the selection stays on the rows it covered (by key).
    function keepCreated(rows, onScreen, bounds) {
      var idOf = {};
      var created = rows.filter(function (row) {
        if (row.tmp_id === undefined || row.tmp_id === null) { return false; }
        idOf[String(row.tmp_id)] = String(row.id);
        return onScreen.indexOf(String(row.tmp_id)) >= 0;
      });
      created.sort(function (a, b) { return onScreen.indexOf(String(a.tmp_id)) - onScreen.indexOf(String(b.tmp_id)); });
      state.keptRows = created.map(function (row) {
        var data = Object.assign({}, row, {_errors: {}, _pending: {}});
        delete data.tmp_id;
        return data;
      });
      if (bounds && bounds.keys) {
        bounds = Object.assign({}, bounds, {keys: bounds.keys.map(function (k) { return idOf[k] || k; })});
      }
      state.restoreBounds = bounds || null;
    }

    // The rows a paste would create show under the row pasted into before them (rec.after), in the order
    // pasted, or on top.
    function showNewRows() {
      var previous = null;
      Object.keys(state.pending).forEach(function (key) {
        var rec = state.pending[key];
        if (!rec.tmp_id || !rec.shown) { return; }
        var row = g.pageRowByKey(key);
        if (!row) {
          var anchor = (rec.after && g.pageRowByKey(rec.after)) || previous;
          if (anchor) { g.table.addRow(newRowData(rec), false, anchor); } else { g.table.addRow(newRowData(rec), true); }
          row = g.pageRowByKey(key);
        }
        previous = row;
      });
    }

    // A new row is named by its place among the new rows on screen (新行 2), with its code once typed.
    function newRowLabel(key, rec) {
      var shown = g.pageRows().filter(function (row) { return row.getData()._tmp; })
        .map(function (row) { return String(row.getData()._tmp); });
      var place = shown.indexOf(String(key));
      var n = place >= 0 ? place + 1 : String(key).replace(/^t/, '');
      var code = rec && cfg.key_field ? rec.values[cfg.key_field] : null;
      return code ? t('new_row_named', {n: n, key: code}) : t('new_row') + ' ' + n;
    }

    function rowLabel(key) {
      var row = g.pageRowByKey(key);
      var rec = state.pending[String(key)];
      var data = row ? row.getData() : null;
      if (data && cfg.key_field && data[cfg.key_field] !== undefined && data[cfg.key_field] !== null && !data._tmp) {
        return window.JXC.copyText(byField[cfg.key_field] || {}, data[cfg.key_field], t);
      }
      if ((rec && rec.tmp_id) || (data && data._tmp)) { return newRowLabel(key, rec); }
      if (rec && rec.values[cfg.key_field]) { return String(rec.values[cfg.key_field]); }
      return '#' + key;
    }

    // 422: every refused cell turns red (from the row data, so it survives re-rendering); nothing was saved.
    function refused(body) {
      Object.keys(state.pending).forEach(function (key) { state.pending[key].errors = {}; });
      function keyOf(e) { return e.tmp_id !== undefined && e.tmp_id !== null ? String(e.tmp_id) : String(e.id); }
      function fieldOf(e) { return e.field && byField[e.field] ? e.field : null; }
      (body.errors || []).forEach(function (e) {
        var rec = state.pending[keyOf(e)];
        if (rec && fieldOf(e)) { rec.errors[fieldOf(e)] = e.message; }
      });
      showNewRows();  // rows a paste would have created are on screen, so their red cells can be fixed too
      var items = (body.errors || []).map(function (e) {
        var field = fieldOf(e);
        var title = field ? byField[field].title : (e.field && e.field !== '_record' ? e.field : '');
        return rowLabel(keyOf(e)) + (title ? ' · ' + title : '') + '：' + e.message;
      });
      g.table.getRows().forEach(function (row) {
        var data = row.getData();
        var rec = state.pending[g.rowKey(data)];
        var before = JSON.stringify(data._errors || {});
        data._errors = rec ? Object.assign({}, rec.errors) : {};
        if (JSON.stringify(data._errors) !== before) { row.reformat(); }
      });
      g.showBanner('error', t('errors', (body.errors || []).length), items);
    }

    // 409: someone changed rows since they were read. Reload takes theirs, Overwrite keeps ours.
    function conflicted(body, opts) {
      var conflicts = body.conflicts || [];
      var names = conflicts.map(function (c) {
        var current = c.current || {};
        return current[cfg.key_field] !== undefined ? window.JXC.copyText(byField[cfg.key_field] || {}, current[cfg.key_field], t) : '#' + c.id;
      });
      state.dirty = true;
      var message = t('conflict_rows', {message: (body.message || t('conflict')).replace(/[。.]$/, ''), rows: names.join('、')});
      g.showBanner('warning', message, [], [
        {name: 'reload', text: t('reload_rows'), cls: 'btn-default', run: function () {
          conflicts.forEach(function (c) {
            delete state.pending[String(c.id)];
            var row = g.pageRowByKey(c.id);
            if (row && c.current) {
              row.update(Object.assign({}, c.current, {_errors: {}, _pending: {}})).then(function () { row.reformat(); });
            } else if (row && !c.current) {
              row.delete();
            }
          });
          g.hideBanner();
          if (hasPending()) { flush(opts); }
        }},
        {name: 'overwrite', text: t('overwrite'), cls: 'btn-warning', run: function () {
          conflicts.forEach(function (c) {
            var rec = state.pending[String(c.id)];
            if (rec && c.current) { rec.version = c.current.version; }
          });
          g.hideBanner();
          state.dirty = true;
          flush(opts);
        }}
      ], t('conflict_hint'));
    }

    function discard() {
      state.pending = {};
      state.dirty = false;
      state.pendingSource = 'edit';
      window.clearTimeout(state.flushTimer);
      g.hideBanner();
      g.reloadPage();
    }

    // Save (Ctrl+S) also sends the new rows; from then on they go with the pending batch, so fixing a
    // refused cell of a new row resends it like any other edit.
    function save() {
      if (g.isEditing()) { return Promise.resolve(null); }
      Object.keys(state.pending).forEach(function (k) {
        if (state.pending[k].manual && Object.keys(state.pending[k].values).length) { state.pending[k].manual = false; }
      });
      return flush({manual: true, force: true});
    }

    // Wait for a running save, then send what is pending; refuse to go on while cells are red.
    function settle() {
      return flush().then(function () {
        var red = Object.keys(state.pending).some(function (k) {
          return Object.keys(state.pending[k].errors).length > 0 || (!state.pending[k].manual && Object.keys(state.pending[k].values).length > 0);
        });
        if (red) {
          if (g.ui.banner.hidden) { g.showBanner('error', t('fix_first')); }  // else the banner already says why
          return false;
        }
        return true;
      });
    }

    // --- undo / redo (server side, whole batches) -------------------------------------------------

    function undoRedo(redo) {
      if (g.isEditing()) { return; }
      var stack = redo ? state.redoStack : state.undoStack;
      settle().then(function (ok) {
        if (!ok) { return; }
        if (!stack.length) { g.setStatus(t(redo ? 'nothing_redo' : 'nothing_undo')); return; }
        var id = stack[0];
        request('POST', urls.undo.replace('{id}', encodeURIComponent(id)), {client_batch_id: uuid()}).then(function (r) {
          if (r.status === 200) {
            stack.shift();
            (redo ? state.undoStack : state.redoStack).unshift(r.body.batch_id);
            g.syncButtons();
            g.hideBanner();
            g.setStatus(t(redo ? 'redone' : 'undone'));
            // rows the undo brought back (a deleted row comes back as a new row) show at once, on top,
            // even when the page's order puts them elsewhere
            var back = (r.body.rows || []).filter(function (row) { return row.tmp_id; });  // rows it created
            g.reloadPage().then(function () {
              back.forEach(function (row) {
                if (g.pageRowByKey(row.id)) { return; }
                var data = Object.assign({}, row, {_errors: {}, _pending: {}});
                delete data.tmp_id;
                g.table.addRow(data, true);
              });
            });
          } else {
            var items = (r.body.conflicts || []).map(function (c) { return (c.key || '#' + c.id) + ' · ' + (c.label || c.field); });
            if (r.status === 409 && !(r.body.conflicts || []).length) {
              stack.shift();  // already undone elsewhere: forget it
              g.syncButtons();
            }
            g.showBanner('error', typeof r.body.message === 'string' ? r.body.message : ('HTTP ' + r.status), items);
          }
        });
      });
    }

    g.discard = discard;
    g.flush = flush;
    g.hasPending = hasPending;
    g.mergePending = mergePending;
    g.newRowData = newRowData;
    g.onCellEdited = onCellEdited;
    g.opsFromPending = opsFromPending;
    g.pushUndo = pushUndo;
    g.rowLabel = rowLabel;
    g.save = save;
    g.setPendingValue = setPendingValue;
    g.showNewRows = showNewRows;
    g.settle = settle;
    g.undoRedo = undoRedo;
  };
}(window.JXCGrid = window.JXCGrid || {}));
