// A sales order on the phone: lines first (scan or type a code, pick from the matches), then customer and
// warehouse, totals at the bottom. The figures come from the server's draft_totals (the browser does no
// money arithmetic); saving posts the order to the REST API as a draft.
(function () {
  'use strict';

  var P = window.JXCPhone;
  var MONEY = { decimals: 2, places: 2 }; // a line's amount read as everywhere else: 12,345.60 (JXC.numberText)
  var config = P.config;
  var lines = [];
  var partner = config.partner || null;
  var message = document.getElementById('ph-msg');
  var list = document.getElementById('ph-order-lines');
  var addInput = document.getElementById('ph-add');
  var partnerInput = document.getElementById('ph-partner');
  var template = document.getElementById('ph-line-template');
  var timer = null; // the figures' refresh after typing
  var asked = 0; // the figures' requests sent: only the answer to the last one is shown
  var partnerTimer = null; // the customer lookup after typing

  function addItem(row) {
    var same = lines.filter(function (l) { return l.item.id === row.id; })[0];
    if (same) {
      same.qty = String(Number(same.qty || 0) + 1);
      render();
      refresh();
      return;
    }
    var line = { item: row, qty: '1', price: '', unit: '', tax_rate: '' };
    lines.push(line);
    var query = '?item=' + encodeURIComponent(row.key) + (partner ? '&partner=' + encodeURIComponent(partner.key) : '');
    P.call('GET', '/api/v1/grid/sales_order/line_defaults' + query).then(function (answer) {
      if (answer.status === 200) {
        var d = answer.body;
        line.unit = d.unit || '';
        line.tax_rate = d.tax_rate == null ? '' : d.tax_rate;
        if (d.price != null && !line.price) { line.price = d.price; }
      }
      showLine(line);
      refresh();
    }, function () { showLine(line); });
    render();
  }

  // A line's defaults come back after its node is drawn, perhaps while its quantity is being typed: the node is
  // filled in where it stands (a new node would take the focus, and what is typed next, away), the input being
  // typed in left as it is.
  function showLine(line) {
    var node = line.node;
    if (!node || !node.isConnected) { render(); return; }
    node.querySelector('.ph-line-unit').textContent = line.unit && line.unit.name ? line.unit.name : '';
    node.querySelector('.ph-line-amount').textContent = window.JXC.numberText(MONEY, line.amount);
    node.querySelectorAll('[data-field]').forEach(function (input) {
      if (input !== document.activeElement) { input.value = line[input.getAttribute('data-field')] || ''; }
    });
  }

  function render() {
    list.textContent = '';
    document.getElementById('ph-no-lines').hidden = lines.length > 0;
    lines.forEach(function (line, index) {
      var node = template.content.firstElementChild.cloneNode(true);
      line.node = node;
      node.querySelector('.ph-line-name').textContent = line.item.key + ' ' + (line.item.name || '');
      node.querySelector('.ph-line-unit').textContent = line.unit && line.unit.name ? line.unit.name : '';
      node.querySelector('.ph-line-amount').textContent = window.JXC.numberText(MONEY, line.amount);
      node.querySelectorAll('[data-field]').forEach(function (input) {
        var field = input.getAttribute('data-field');
        input.value = line[field] || '';
        input.addEventListener('input', function () {
          line[field] = input.value;
          clearTimeout(timer);
          timer = setTimeout(refresh, 300);
        });
      });
      node.querySelector('[data-remove]').addEventListener('click', function () {
        lines.splice(index, 1);
        render();
        refresh();
      });
      list.appendChild(node);
    });
  }

  function body() {
    return {
      partner: partner ? partner.id : null,
      warehouse: Number(document.getElementById('ph-warehouse').value) || null,
      remark: document.getElementById('ph-remark').value,
      lines: lines.map(function (line) {
        var out = { item: line.item.id, qty: line.qty };
        if (line.unit && line.unit.id) { out.unit = line.unit.id; }
        if (line.tax_rate !== '') { out.tax_rate = line.tax_rate; }
        if (config.sees_price) { out.price = line.price; }
        return out;
      }),
    };
  }

  function refresh() {
    var mine = ++asked;
    P.call('POST', '/api/v1/grid/sales_order/draft_totals', body()).then(function (answer) {
      // answers can come back out of order (a slow one for an earlier edit): an older one is not shown
      if (mine !== asked || answer.status !== 200) { return; }
      answer.body.lines.forEach(function (computed, i) {
        if (lines[i]) { lines[i].amount = computed.amount_with_tax || computed.amount || ''; }
      });
      list.querySelectorAll('.ph-line-amount').forEach(function (cell, i) {
        cell.textContent = lines[i] ? window.JXC.numberText(MONEY, lines[i].amount) : '';
      });
      (config.totals || []).forEach(function (total) {  // each as the grid shows its field: 1,234.50, a quantity 7
        var cell = document.querySelector('[data-total="' + total.name + '"]');
        var value = answer.body.totals[total.name];
        if (cell) { cell.textContent = value == null ? '-' : window.JXC.numberText(total.look, value); }
      });
    }, function () { /* offline: the totals wait */ });
  }

  addInput.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter') { return; }
    event.preventDefault();
    var q = addInput.value.trim();
    if (!q) { return; }
    P.lookup('item', q).then(function (rows) {
      var exact = rows.filter(function (r) { return r.key.toLowerCase() === q.toLowerCase(); });
      if (rows.length === 1 || exact.length === 1) {
        addItem(exact[0] || rows[0]);
        addInput.value = '';
        document.getElementById('ph-choices').hidden = true;
      } else if (!rows.length) {
        P.show(message, P.text('nothing_found'), 'warn');
      } else {
        P.choices(document.getElementById('ph-choices'), rows, function (row) {
          addItem(row);
          addInput.value = '';
          addInput.focus();
        });
      }
      addInput.focus();
    }, function () { P.show(message, P.text('offline_write'), 'error'); });
  });

  function showPartner() { partnerInput.value = partner ? partner.key + ' ' + (partner.name || '') : ''; }
  partnerInput.addEventListener('input', function () {
    clearTimeout(partnerTimer);
    var q = partnerInput.value.trim();
    partnerTimer = setTimeout(function () {
      if (!q) { return; }
      P.lookup('partner', q).then(function (rows) {
        P.choices(document.getElementById('ph-partner-choices'), rows, function (row) {
          partner = row;
          showPartner();
          refresh();
        });
      });
    }, 250);
  });
  showPartner();

  document.getElementById('ph-order').addEventListener('submit', function (event) {
    event.preventDefault();
    var save = document.getElementById('ph-save');
    save.disabled = true;
    P.call('POST', '/api/v1/sales_order/', body()).then(function (answer) {
      save.disabled = false;
      if (answer.status === 201) {
        var link = document.createElement('a');
        link.href = '/m/sales_order/' + answer.body.id;
        link.textContent = P.text('saved', { number: answer.body.result && answer.body.result.number || answer.body.id });
        message.textContent = '';
        message.appendChild(link);
        message.className = 'ph-msg ph-ok';
        message.hidden = false;
        lines = [];
        render();
        refresh();
      } else {
        P.show(message, P.errorText(answer), 'error');
      }
    }, function () {
      save.disabled = false;
      P.show(message, P.text('offline_write'), 'error');
    });
  });

  render();
  addInput.focus();
}());
