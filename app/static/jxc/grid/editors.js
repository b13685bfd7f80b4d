// Cell editors (the column's `editor`, named by its field type): a text input (a date typed as yyyy-mm-dd, the
// usual other ways made so by jxc/dates.js; a textarea for long text), a select list, and a link input that looks
// up keys, names, pinyin initials or barcodes as you type. Typing on a cell starts its editor with
// that key (state.startText); Enter commits and moves down.
(function (G) {
  'use strict';

  // Add inputEditor(), selectEditor() and linkEditor() to the grid instance g.
  G.gridEditors = function (g) {
    var state = g.state;
    var request = g.request;
    var el = G.el;
    var withQuery = G.withQuery;
    var editText = window.JXC.editText;

    // --- editors ---------------------------------------------------------------------------------

    function takeStart() {
      var s = state.startText;
      state.startText = null;
      return s;
    }

    function moveAfterCommit(dir) {
      window.setTimeout(function () {
        var sr = g.table.modules.selectRange;
        if (sr && sr.activeRange) { sr.navigate(false, false, dir); }
      }, 0);
    }

    // A text input (a textarea for long text); the server parses what is typed.
    function inputEditor(col) {
      return function (cell, onRendered, success, cancel) {
        var start = takeStart();
        var initial = editText(col, cell.getValue());
        var input;
        if (col.editor === 'textarea') {
          input = el('textarea', {'class': 'jxc-grid-input', rows: '1'});
        } else {
          // a date too: typed and shown as yyyy-mm-dd (a date input would show mm/dd/yyyy under an English browser)
          input = el('input', col.editor === 'date' ? {'class': 'jxc-grid-input', type: 'text', inputmode: 'numeric'}
            : {'class': 'jxc-grid-input', type: 'text'});
        }
        if (col.numeric) { input.style.textAlign = 'right'; }
        input.value = start !== null ? start : initial;
        var done = false;
        function commit() {
          if (done) { return; }
          done = true;
          var v = col.editor === 'date' ? (window.JXC.isoDate(input.value) || input.value) : input.value;
          if (v === initial) { cancel(); } else { success(v === '' ? null : window.JXC.typedValue(col, v)); }
        }
        input.addEventListener('keydown', function (e) {
          if (e.key === 'Enter' && !(col.editor === 'textarea' && (e.altKey || e.shiftKey))) {
            e.preventDefault();
            e.stopPropagation();
            commit();
            moveAfterCommit(e.shiftKey ? 'up' : 'down');
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            done = true;
            cancel();
          } else if (e.key === 'Tab') {
            commit();  // the keydown goes on to Tabulator, which moves the range
          } else if ((e.ctrlKey || e.metaKey) && (e.key === 's' || e.key === 'S')) {
            e.preventDefault();
            commit();
            g.save();
          }
        });
        input.addEventListener('blur', commit);
        onRendered(function () {
          input.focus({preventScroll: true});
          try {
            if (start === null) { input.select(); } else { input.setSelectionRange(input.value.length, input.value.length); }
          } catch { /* an input without a text selection */ }
        });
        return input;
      };
    }

    function selectEditor(col) {
      var values = (col.options || []).map(function (o) { return {label: o.label, value: o.value}; });
      if (!col.required) { values.unshift({label: '', value: null}); }
      return {
        editor: 'list',
        params: {values: values, itemFormatter: G.safeItem, emptyValue: null}
      };
    }

    // Links and users: type the key (or a name, pinyin initials, barcode; a user's name) and pick from the
    // column's lookup, asked for this field (for=model.field: only what it may name, a salesperson themselves);
    // whatever is typed is sent as is and the server resolves it.
    function linkEditor(col) {
      var url = col.lookup;
      var purpose = g.cfg.model + '.' + col.field;
      return function (cell, onRendered, success, cancel) {
        var start = takeStart();
        var initial = editText(col, cell.getValue());
        var input = el('input', {'class': 'jxc-grid-input', type: 'text', autocomplete: 'off'});
        input.value = start !== null ? start : initial;
        var list = el('div', {'class': 'jxc-grid-suggest', role: 'listbox'});
        var items = [];
        var active = -1;
        var seq = 0;
        var timer = null;
        var done = false;

        function place() {
          var r = cell.getElement().getBoundingClientRect();
          list.style.left = Math.round(r.left) + 'px';
          list.style.top = Math.round(r.bottom) + 'px';
          list.style.minWidth = Math.max(Math.round(r.width), 240) + 'px';
        }
        function render() {
          list.textContent = '';
          items.forEach(function (item, i) {
            var row = el('div', {'class': 'jxc-grid-suggest-item' + (i === active ? ' active' : ''), role: 'option'});
            row.appendChild(el('b', {}, item.key));
            row.appendChild(document.createTextNode(' ' + (item.name === null || item.name === undefined ? '' : item.name)));
            row.addEventListener('mousedown', function (e) { e.preventDefault(); choose(i); });
            list.appendChild(row);
          });
          if (items.length) {
            if (!list.parentNode) { document.body.appendChild(list); }
            place();
          } else if (list.parentNode) {
            list.parentNode.removeChild(list);
          }
        }
        function lookup() {
          var q = input.value.trim();
          var mine = ++seq;
          if (!q) { items = []; active = -1; render(); return; }
          request('GET', withQuery(url, [['q', q], ['for', purpose]]), undefined, 0).then(function (r) {
            if (mine !== seq || done) { return; }
            items = r.status === 200 ? (r.body.results || []) : [];
            active = -1;
            render();
          });
        }
        function cleanup() {
          done = true;
          window.clearTimeout(timer);
          if (list.parentNode) { list.parentNode.removeChild(list); }
        }
        function commit() {
          if (done) { return; }
          cleanup();
          var v = input.value.trim();
          if (v === initial) { cancel(); } else { success(v === '' ? null : window.JXC.typedValue(col, v)); }
        }
        function choose(i) {
          input.value = String(items[i].key);
          commit();
        }
        input.addEventListener('input', function () {
          window.clearTimeout(timer);
          timer = window.setTimeout(lookup, 200);
        });
        input.addEventListener('keydown', function (e) {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && items.length) {
            e.preventDefault();
            e.stopPropagation();
            active = (active + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
            render();
          } else if (e.key === 'Enter') {
            e.preventDefault();
            e.stopPropagation();
            if (active >= 0) { choose(active); } else { commit(); }
            moveAfterCommit('down');
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            cleanup();
            cancel();
          } else if (e.key === 'Tab') {
            commit();
          }
        });
        input.addEventListener('blur', commit);
        onRendered(function () {
          input.focus({preventScroll: true});
          if (start === null) { input.select(); } else { lookup(); }
        });
        return input;
      };
    }

    g.inputEditor = inputEditor;
    g.linkEditor = linkEditor;
    g.selectEditor = selectEditor;
  };
}(window.JXCGrid = window.JXCGrid || {}));
