// The frame around the table: toolbar, status line, column panel and the message banner; the
// table's height, the saved column layout and the Excel export of the current view.
(function (G) {
  'use strict';

  // Build the toolbar, banner and table element into g.root (as g.ui) and add their functions to g.
  G.gridToolbar = function (g) {
    var state = g.state;
    var cfg = g.cfg;
    var t = g.t;
    var urls = g.urls;
    var byField = g.byField;
    var request = g.request;
    var el = G.el;
    var withQuery = G.withQuery;
    var statusTimer = null;
    var layoutTimer = null;

    // --- skeleton: toolbar, banner, table --------------------------------------------------------

    g.root.classList.add('jxc-grid');
    var toolbar = el('div', {'class': 'jxc-grid-toolbar', role: 'toolbar'});
    var buttons = {};
    function button(action, text, cls, title) {
      var b = el('button', {type: 'button', 'class': 'btn btn-sm ' + (cls || 'btn-default'), 'data-action': action}, text);
      if (title) { b.title = title; }
      buttons[action] = b;
      return b;
    }
    var left = el('div', {'class': 'jxc-grid-actions'});
    if (cfg.can_create) { left.appendChild(button('add', t('add'))); }
    if (cfg.can_write) { left.appendChild(button('save', t('save'), 'btn-primary', 'Ctrl+S')); }
    if (cfg.can_delete) { left.appendChild(button('delete', t('del'))); }
    if (cfg.can_write) {
      left.appendChild(button('undo', t('undo'), null, 'Ctrl+Z'));
      left.appendChild(button('redo', t('redo'), null, 'Ctrl+Y'));
    }
    if (cfg.can_export) {
      left.appendChild(button('export', t('exp')));
      left.appendChild(button('export_csv', t('exp_csv')));
    }
    if (cfg.can_import) {
      left.appendChild(el('a', {'class': 'btn btn-sm btn-default', href: cfg.urls.import_page, 'data-action': 'import'},
        t('import')));
      left.appendChild(el('a', {'class': 'btn btn-sm btn-default', href: cfg.urls.template, 'data-action': 'template'},
        t('template')));
    }
    var colWrap = el('div', {'class': 'jxc-grid-colwrap'});
    colWrap.appendChild(button('columns', t('cols') + ' ▾'));
    var colPanel = el('div', {'class': 'jxc-grid-colpanel', hidden: 'hidden'});
    colWrap.appendChild(colPanel);
    left.appendChild(colWrap);
    left.appendChild(button('reload', t('reload')));
    var right = el('div', {'class': 'jxc-grid-right'});
    var status = el('span', {'class': 'jxc-grid-status text-muted', 'aria-live': 'polite'});
    var searchBox = el('input', {type: 'search', 'class': 'form-control input-sm jxc-grid-search', placeholder: t('search')});
    var countEl = el('span', {'class': 'jxc-grid-count'});
    right.appendChild(status);
    right.appendChild(searchBox);
    right.appendChild(countEl);
    toolbar.appendChild(left);
    toolbar.appendChild(right);
    var banner = el('div', {'class': 'jxc-grid-banner', role: 'alert', hidden: 'hidden'});
    var tableEl = el('div', {'class': 'jxc-grid-table'});
    g.root.appendChild(toolbar);
    g.root.appendChild(banner);
    g.root.appendChild(tableEl);
    g.ui = {toolbar: toolbar, buttons: buttons, banner: banner, tableEl: tableEl, status: status, searchBox: searchBox,
      countEl: countEl, colPanel: colPanel, colWrap: colWrap};

    // --- banner ----------------------------------------------------------------------------------

    function showBanner(kind, message, items, actions, hint) {
      banner.textContent = '';
      banner.className = 'jxc-grid-banner jxc-grid-banner-' + kind;
      banner.appendChild(el('div', {'class': 'jxc-grid-banner-message'}, message));
      if (hint) { banner.appendChild(el('div', {'class': 'jxc-grid-banner-hint'}, hint)); }
      if (items && items.length) {
        var ul = el('ul', {'class': 'jxc-grid-banner-list'});
        items.slice(0, 20).forEach(function (text) { ul.appendChild(el('li', {}, text)); });
        if (items.length > 20) { ul.appendChild(el('li', {}, t('more_errors', items.length - 20))); }
        banner.appendChild(ul);
      }
      var bar = el('div', {'class': 'jxc-grid-banner-actions'});
      (actions || []).forEach(function (a) {
        var b = el('button', {type: 'button', 'class': 'btn btn-sm ' + (a.cls || 'btn-default'), 'data-banner': a.name}, a.text);
        b.addEventListener('click', a.run);
        bar.appendChild(b);
      });
      if (g.hasPending()) {
        var d = el('button', {type: 'button', 'class': 'btn btn-sm btn-link', 'data-banner': 'discard'}, t('discard'));
        d.addEventListener('click', g.discard);
        bar.appendChild(d);
      }
      if (bar.children.length) { banner.appendChild(bar); }
      banner.hidden = false;
      fitHeight();
    }

    function hideBanner() {
      if (banner.hidden) { return; }
      banner.hidden = true;
      banner.textContent = '';
      fitHeight();
    }

    // The table fills the window below the toolbar and banner, so nothing scrolls the page when
    // Tabulator focuses its body (a page scroll between two clicks would move the second one).
    function tableHeight() {
      var top = tableEl.getBoundingClientRect().top + window.scrollY;
      return Math.max(300, Math.floor(window.innerHeight - top - 12));
    }

    function fitHeight() {
      if (!g.table) { return; }
      var h = tableHeight();
      if (h !== state.heightNow) {
        state.heightNow = h;
        g.table.setHeight(h);
      }
    }

    // sticky: true keeps the text until the next one, a number shows it that many ms (else 2.5 s)
    function setStatus(text, sticky) {
      status.textContent = text;
      window.clearTimeout(statusTimer);
      if (sticky !== true) {
        statusTimer = window.setTimeout(function () { status.textContent = ''; }, typeof sticky === 'number' ? sticky : 2500);
      }
    }

    function syncButtons() {
      if (buttons.undo) { buttons.undo.disabled = !state.undoStack.length; }
      if (buttons.redo) { buttons.redo.disabled = !state.redoStack.length; }
    }

    // --- export, columns, layout ------------------------------------------------------------------

    // A view larger than cfg.export_job_rows is exported by a background job (the jobs page holds the file).
    function exportView(format) {
      var fields = g.visibleCols().map(function (c) { return c.getField(); }).join(',');
      if (state.total > cfg.export_job_rows) {
        var args = {model: cfg.model, params: g.viewParams(), columns: fields, format: format || 'xlsx'};
        request('POST', urls.jobs, {kind: 'export', args: args}).then(function (r) {
          setStatus(r.status === 202 ? t('export_job', cfg.export_job_rows) : (r.body.message || t('network')), true);
        });
        return;
      }
      var params = g.viewParams().concat([['columns', fields]]);
      if (format === 'csv') { params.push(['format', 'csv']); }
      window.location.href = withQuery(urls.export, params);
    }

    function buildColumnPanel() {
      colPanel.textContent = '';
      g.table.getColumns().forEach(function (c) {
        var col = byField[c.getField()];
        if (!col) { return; }
        var label = el('label', {'class': 'jxc-grid-colitem'});
        var box = el('input', {type: 'checkbox', 'data-field': col.field});
        box.checked = c.isVisible();
        box.addEventListener('change', function () {
          if (box.checked) { c.show(); } else { c.hide(); }
        });
        label.appendChild(box);
        label.appendChild(document.createTextNode(' ' + col.title));
        colPanel.appendChild(label);
      });
    }

    function saveLayoutSoon() {
      window.clearTimeout(layoutTimer);
      layoutTimer = window.setTimeout(function () {
        var body = {columns: g.table.getColumns().filter(function (c) { return byField[c.getField()]; }).map(function (c) {
          return {field: c.getField(), width: Math.round(c.getWidth()), visible: c.isVisible()};
        })};
        request('PUT', urls.layout, body, 1);
      }, 600);
    }

    g.buildColumnPanel = buildColumnPanel;
    g.exportView = exportView;
    g.fitHeight = fitHeight;
    g.hideBanner = hideBanner;
    g.saveLayoutSoon = saveLayoutSoon;
    g.setStatus = setStatus;
    g.showBanner = showBanner;
    g.syncButtons = syncButtons;
    g.tableHeight = tableHeight;
  };
}(window.JXCGrid = window.JXCGrid || {}));
