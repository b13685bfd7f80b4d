// Phones: cards from the same rows API, a search box and a "More" button; a tap opens the form.
(function (G) {
  'use strict';

  // Fill ctx.root with the cards view (ctx: the page context made in main.js).
  G.cards = function (ctx) {
    var root = ctx.root;
    var cfg = ctx.cfg;
    var t = ctx.t;
    var urls = ctx.urls;
    var byField = ctx.byField;
    var query = ctx.query;
    var request = ctx.request;
    var el = G.el;
    var displayText = window.JXC.displayText;

    root.classList.add('jxc-cards-mode');
    var bar = el('div', {'class': 'jxc-cards-bar'});
    var search = el('input', {type: 'search', 'class': 'form-control jxc-cards-search', placeholder: t('search')});
    var count = el('div', {'class': 'jxc-cards-count text-muted'});
    bar.appendChild(search);
    bar.appendChild(count);
    var list = el('div', {'class': 'jxc-cards'});
    var more = el('button', {type: 'button', 'class': 'btn btn-default btn-block jxc-cards-more'}, t('more'));
    root.appendChild(bar);
    root.appendChild(list);
    root.appendChild(more);
    var page = 0;
    var lastPage = 1;
    var seq = 0;
    var key = cfg.key_field;
    // a few descriptive fields, then the first numbers (prices, quantities)
    var rest = visibleColumns().filter(function (c) {
      return c.field !== key && c.field !== cfg.display_field && c.card;
    });
    var words = rest.filter(function (c) { return !c.numeric && c.editable; });
    var numbers = rest.filter(function (c) { return c.numeric; });
    var shown = words.slice(0, numbers.length ? 3 : 5).concat(numbers.slice(0, 2));
    if (shown.length < 5) {
      shown = shown.concat(rest.filter(function (c) { return shown.indexOf(c) < 0; }).slice(0, 5 - shown.length));
    }
    shown = rest.filter(function (c) { return shown.indexOf(c) >= 0; });
    var target = cfg.can_write ? urls.form : urls.show;

    function visibleColumns() {
      var hidden = {};
      (cfg.layout || []).forEach(function (l) { if (l.visible === false) { hidden[l.field] = true; } });
      return ctx.columns.filter(function (c) { return !hidden[c.field]; });
    }

    function card(row) {
      var a = el('a', {'class': 'jxc-card', href: target.replace('{id}', encodeURIComponent(row.id))});
      var title = el('div', {'class': 'jxc-card-title'});
      title.appendChild(el('strong', {}, key && key !== 'id' ? displayText(byField[key] || {}, row[key]) : '#' + row.id));
      if (cfg.display_field && cfg.display_field !== key && byField[cfg.display_field]) {
        title.appendChild(document.createTextNode(' ' + displayText(byField[cfg.display_field], row[cfg.display_field])));
      }
      a.appendChild(title);
      var dl = el('dl', {'class': 'jxc-card-fields'});
      shown.forEach(function (c) {
        var text = c.format === 'tick' ? window.JXC.copyText(c, row[c.field], t) : displayText(c, row[c.field]);
        dl.appendChild(el('dt', {}, c.title));
        dl.appendChild(el('dd', {'class': c.numeric ? 'jxc-num' : ''}, text || '—'));
      });
      a.appendChild(dl);
      return a;
    }

    function load(reset) {
      if (reset) { page = 0; lastPage = 1; }
      if (page >= lastPage) { return; }
      var mine = ++seq;
      more.disabled = true;
      var params = [['page', page + 1], ['size', 20]];
      if (query.search) { params.push(['search', query.search]); }
      request('GET', G.withQuery(urls.rows, params)).then(function (r) {
        if (mine !== seq) { return; }
        if (reset) { list.textContent = ''; }
        if (r.status !== 200) {
          list.appendChild(el('div', {'class': 'alert alert-danger'}, r.body.message || r.status));
          return;
        }
        page += 1;
        lastPage = r.body.last_page || 1;
        count.textContent = t(r.body.last_row_exact === false ? 'total_approx' : 'total', r.body.last_row || 0);
        (r.body.data || []).forEach(function (row) { list.appendChild(card(row)); });
        if (!list.children.length) { list.appendChild(el('div', {'class': 'text-muted jxc-cards-empty'}, t('no_rows'))); }
        more.style.display = page < lastPage ? '' : 'none';
        more.disabled = false;
      });
    }

    var timer = null;
    search.addEventListener('input', function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { query.search = search.value.trim(); load(true); }, 350);
    });
    more.addEventListener('click', function () { load(false); });
    window.jxcGrid = {mode: 'cards', state: ctx.state};
    load(true);
  };
}(window.JXCGrid = window.JXCGrid || {}));
