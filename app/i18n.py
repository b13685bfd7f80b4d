"""Messages in zh_CN (first) and English, chosen by the request's locale."""

from __future__ import annotations

from typing import Any

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"zh": "必填", "en": "This field is required"},
    "unknown_field": {"zh": "未知字段", "en": "Unknown field"},
    "readonly_field": {"zh": "只读字段，不能修改", "en": "Read-only field"},
    "not_text": {"zh": "应为文本", "en": "Must be text"},
    "too_long": {"zh": "最多 {max} 个字符", "en": "At most {max} characters"},
    "pattern": {"zh": "格式不正确", "en": "Invalid format"},
    "not_integer": {"zh": "应为整数", "en": "Must be a whole number"},
    "not_number": {"zh": "应为数字", "en": "Must be a number"},
    "too_many_decimals": {"zh": "最多 {scale} 位小数", "en": "At most {scale} decimal places"},
    "too_many_digits": {"zh": "数值过大", "en": "Number too large"},
    "min": {"zh": "不能小于 {min}", "en": "Must be at least {min}"},
    "max": {"zh": "不能大于 {max}", "en": "Must be at most {max}"},
    "not_date": {"zh": "应为日期，如 2026-11-25", "en": "Must be a date like 2026-11-25"},
    "not_datetime": {
        "zh": "应为日期时间，如 2026-11-25 08:30",
        "en": "Must be a date and time like 2026-11-25 08:30",
    },
    "not_boolean": {"zh": "应为 是/否", "en": "Must be yes or no"},
    "not_option": {"zh": "可选值：{options}", "en": "Choose one of: {options}"},
    "link_missing": {"zh": "找不到「{value}」", "en": "No record '{value}'"},
    "user_missing": {"zh": "找不到用户「{value}」", "en": "No user '{value}'"},
    "barcode_chars": {"zh": "条码只能包含字母、数字和 -", "en": "Barcodes use letters, digits and '-'"},
    "barcode_check": {"zh": "条码校验位错误", "en": "Wrong barcode check digit"},
    "duplicate": {"zh": "「{value}」已存在", "en": "'{value}' already exists"},
    "not_list": {"zh": "应为明细行列表", "en": "Must be a list of lines"},
    "not_object": {"zh": "应为对象", "en": "Must be an object"},
    "not_found": {"zh": "记录不存在", "en": "Not found"},
    "forbidden": {"zh": "没有权限", "en": "Forbidden"},
    "version_conflict": {
        "zh": "该记录已被他人修改（当前版本 {current}）",
        "en": "Changed by someone else since (now version {current})",
    },
    "in_use": {"zh": "已被其他记录引用，不能删除", "en": "Still referenced by other records"},
    "not_draft": {"zh": "单据已审核或作废，不能修改", "en": "Only draft documents can be changed"},
    "bad_filter_field": {"zh": "不能按「{field}」筛选", "en": "Cannot filter on '{field}'"},
    "bad_filter_op": {"zh": "「{field}」不支持 {op}", "en": "'{field}' does not support {op}"},
    "bad_order_field": {"zh": "不能按「{field}」排序", "en": "Cannot sort on '{field}'"},
    "bad_page_size": {"zh": "每页最多 {max} 行", "en": "page_size must be between 1 and {max}"},
    "csrf": {"zh": "CSRF 令牌缺失或无效，请刷新页面", "en": "CSRF token missing or invalid"},
    "ledger_readonly": {"zh": "库存流水由系统生成，只读", "en": "Ledger rows are written by the system only"},
    "lines_via_document": {"zh": "明细行请在单据中修改", "en": "Lines are changed through their document"},
    "out_of_scope": {"zh": "超出您的数据范围", "en": "Outside the data you may work with"},
    "not_a_document": {"zh": "只有单据可以审核", "en": "Only documents are submitted"},
    "status_changed": {
        "zh": "单据状态已变化（不再是{status}），请刷新",
        "en": "The document is no longer {status}; reload it",
    },
    "short_stock": {
        "zh": "库存不足：可用 {available}，需要 {wanted}",
        "en": "Not enough stock: {available} on hand, {wanted} needed",
    },
    "short_stock_cancel": {
        "zh": "反审核会使库存为负：现有 {available}，需冲回 {wanted}",
        "en": "Cancelling would take stock below zero: {available} on hand, {wanted} to take back",
    },
    "fifo_layer_used": {
        "zh": "反审核被拒绝：该行入库的货已按先进先出发出，成本层只剩 {available}，需冲回 {wanted}",
        "en": "Cannot cancel: goods of this line have been issued first in, first out; "
        "{available} of the {wanted} are left in its cost layer",
    },
    "qty_positive": {"zh": "数量必须大于 0", "en": "Quantity must be above zero"},
    "batch_required": {
        "zh": "商品 {sku} 启用了批次管理，须填写批号",
        "en": "Item {sku} tracks batches: enter the batch",
    },
    "short_stock_batch": {
        "zh": "批次 {batch} 库存不足：可用 {available}，需要 {wanted}",
        "en": "Not enough stock in batch {batch}: {available} available, {wanted} needed",
    },
    "unit_no_ratio": {
        "zh": "商品 {sku} 没有单位「{unit}」：请用基本单位「{base}」，或在商品多单位中添加它和换算率",
        "en": "Item {sku} is not counted in '{unit}': use its base unit '{base}' or add the unit "
        "with its ratio to the item's units",
    },
    "one_account_only": {
        "zh": "一张收付款单只能用单据头的结算账户；要分到多个账户，请在系统设置中开启「多账户收付款」",
        "en": "A payment uses its header's account; to split it over several accounts, switch on "
        "payments over several accounts in the settings",
    },
    "base_unit_in_use": {
        "zh": "该商品已有库存流水、单据明细或多单位换算，不能再改基本单位（数量和换算率都按它计）",
        "en": "The item is already counted in its base unit (stock moves, document lines or extra units): "
        "the base unit can no longer change",
    },
    "department_has_users": {
        "zh": "还有 {count} 个用户属于这个部门，请先在「用户仓库与部门」中调整",
        "en": "{count} users still belong to this department: move them on the user warehouses page first",
    },
    "unit_is_base": {
        "zh": "这是商品 {sku} 的基本单位（换算率恒为 1），只需添加其他单位",
        "en": "This is item {sku}'s base unit (its ratio is always 1); add only other units",
    },
    "unit_not_base": {
        "zh": "商品 {sku} 须按基本单位「{unit}」填写数量",
        "en": "Item {sku} is counted here in its base unit '{unit}'",
    },
    "serial_whole": {
        "zh": "启用序列号管理的商品数量须为整数",
        "en": "Items with serial numbers move in whole units",
    },
    "serial_count": {
        "zh": "数量 {qty} 与序列号个数 {count} 不符（每件一个序列号，每行一个或用逗号分隔）",
        "en": "Quantity {qty} but {count} serial numbers (one per unit, one per line or comma-separated)",
    },
    "serial_repeated": {"zh": "序列号重复：{serials}", "en": "Serial numbers given twice: {serials}"},
    "serial_too_long": {
        "zh": "序列号最长 {max} 个字符：{serials}",
        "en": "Serial numbers are at most {max} characters: {serials}",
    },
    "serial_other_line": {
        "zh": "序列号已在第 {line} 行：{serials}",
        "en": "Serial numbers already on line {line}: {serials}",
    },
    "serial_in_stock": {
        "zh": "序列号已在库存中，不能再入库：{serials}",
        "en": "Serial numbers already in stock cannot come in again: {serials}",
    },
    "serial_not_here": {
        "zh": "序列号不在 {place} 的库存中：{serials}",
        "en": "Serial numbers not in stock in {place}: {serials}",
    },
    "serial_place_batch": {"zh": "{warehouse} 批次 {batch}", "en": "{warehouse}, batch {batch}"},
    "serial_cancel_gone": {
        "zh": "反审核被拒绝：该行入库的序列号已不在库存中（先反审核后来的出库）：{serials}",
        "en": "Cannot cancel: serial numbers this line brought in are no longer in stock "
        "(cancel the later issues first): {serials}",
    },
    "serial_cancel_back": {
        "zh": "反审核被拒绝：该行出库的序列号已重新入库：{serials}",
        "en": "Cannot cancel: serial numbers this line issued are in stock again: {serials}",
    },
    "serial_book": {
        "zh": "实盘序列号与账面不符：取账面数时该批在库序列号 {booked} 个，账面数量 {book}；请重新添加该行以重取账面数",
        "en": "The counted serial numbers do not fit the book: {booked} were in stock when the book "
        "quantity {book} was taken; add the line again to take the book quantity anew",
    },
    "serial_not_on_source": {
        "zh": "序列号不在源单 {number} 上：{serials}",
        "en": "Serial numbers not on {number}: {serials}",
    },
    "serial_returned_already": {
        "zh": "这些序列号已由其他退货单从 {number} 退回：{serials}",
        "en": "These serial numbers were already returned against {number}: {serials}",
    },
    "serial_race": {
        "zh": "序列号刚被其他单据移动，请重试：{serials}",
        "en": "Another document just moved these serial numbers; try again: {serials}",
    },
    "tracking_on_with_stock": {
        "zh": "该商品已有库存 {qty}（{warehouses}），不能开启{field}；请先将库存调整为零",
        "en": "The item has {qty} in stock ({warehouses}): adjust its stock to zero before switching on {field}",
    },
    "tracking_off_with_stock": {
        "zh": "该商品还有库存 {qty}（{warehouses}），不能关闭{field}；请先将库存调整为零",
        "en": "The item has {qty} in stock ({warehouses}): adjust its stock to zero before switching off {field}",
    },
    "meta_bad_name": {
        "zh": "字段名「{name}」无效：只能用小写字母、数字和下划线",
        "en": "Field name '{name}' is not valid",
    },
    "meta_reserved_name": {"zh": "字段名「{name}」是系统保留字", "en": "Field name '{name}' is reserved"},
    "meta_unknown_type": {"zh": "未知的字段类型「{type}」", "en": "Unknown field type '{type}'"},
    "meta_label": {"zh": "标签需要中文和英文", "en": "The label needs zh and en"},
    "meta_bad_default": {"zh": "默认值「{value}」无效：{reason}", "en": "Bad default '{value}': {reason}"},
    "meta_link_needs_to": {"zh": "关联字段需要指定关联到哪个模型", "en": "A link needs the model it points to"},
    "meta_missing_model": {"zh": "关联的模型「{model}」不存在", "en": "Linked model '{model}' does not exist"},
    "meta_options": {"zh": "选择字段需要选项", "en": "A select field needs options"},
    "period_locked": {"zh": "{date} 及以前已关账，不能审核或反审核", "en": "The period up to {date} is locked"},
    "backdated": {
        "zh": "该商品在 {date} 已有出入库记录，单据日期不能更早（不允许倒记）",
        "en": "This stock already has entries dated {date}; a document cannot be dated earlier",
    },
    "approval_role": {"zh": "这一级需要「{role}」审批", "en": "This level needs the {role} role to approve"},
    "credit_limit": {
        "zh": "超出信用额度 {limit}：已欠款及未发货订单 {exposure}，本单 {amount}",
        "en": "Over the credit limit {limit}: {exposure} owed or on order, {amount} on this order",
    },
    "source_missing": {"zh": "找不到已审核的源单「{number}」", "en": "No submitted source document '{number}'"},
    "over_return": {
        "zh": "超出 {number} 可退数量（已出入库数量减已退数量）",
        "en": "More than {number} has left to return",
    },
    "return_other_partner": {
        "zh": "源单 {number} 属于其他往来单位",
        "en": "Source document {number} belongs to another partner",
    },
    "over_order": {"zh": "超出订单 {number} 的未发货数量", "en": "More than order {number} still has open"},
    "budget_near": {
        "zh": "「{category}」本月采购已达预算的 80%：{spent} / {budget}",
        "en": "{category}: this month's purchases reach 80% of the budget ({spent} of {budget})",
    },
    "budget_over": {
        "zh": "「{category}」本月采购超出预算：{spent} / {budget}，需经理审批",
        "en": "{category}: this month's purchases exceed the budget ({spent} of {budget}); a manager must approve",
    },
    "over_allocated": {
        "zh": "核销合计 {total} 超过收付款金额",
        "en": "Allocations total {total}, more than the payment",
    },
    "over_open": {"zh": "超过该单据未核销金额 {open}", "en": "More than the document's open amount {open}"},
    "reorder_done": {
        "zh": "已生成采购订单草稿：{numbers}；无默认供应商未生成：{skipped}",
        "en": "Draft purchase orders: {numbers}; skipped (no default supplier): {skipped}",
    },
    "field_exists": {"zh": "字段「{field}」已存在", "en": "Field '{field}' already exists"},
    "saved": {"zh": "已保存", "en": "Saved"},
    "batch_malformed": {"zh": "批量保存的格式不正确：{reason}", "en": "Malformed batch: {reason}"},
    "batch_too_big": {
        "zh": "一次最多保存 {max} 行，请使用导入页面",
        "en": "At most {max} rows per save; use the import page for bigger blocks",
    },
    "batch_cells": {"zh": "{count} 个单元格有误，未保存", "en": "{count} cells were refused; nothing was saved"},
    "batch_conflicts": {
        "zh": "{count} 行已被他人修改，请重新加载或覆盖",
        "en": "{count} rows were changed by someone else; reload or overwrite",
    },
    "undo_unknown": {"zh": "找不到可撤销的操作", "en": "Nothing to undo with that id"},
    "undo_done": {"zh": "该操作已撤销过", "en": "That operation was already undone"},
    "undo_changed": {
        "zh": "以下单元格在此后已被修改，不能撤销：{cells}",
        "en": "These cells changed since, so it cannot be undone: {cells}",
    },
    "undo_gone": {"zh": "已删除", "en": "deleted"},
    "submitted_ok": {"zh": "已审核，库存已更新", "en": "Submitted; stock updated"},
    "approved_ok": {"zh": "已审批", "en": "Approved"},
    "rejected_ok": {"zh": "已退回草稿", "en": "Sent back to draft"},
    "cancelled_ok": {"zh": "已反审核，已生成冲销记录", "en": "Cancelled; reversing entries posted"},
    "deleted": {"zh": "已删除", "en": "Deleted"},
}


ACTION_LABELS: dict[str, dict[str, str]] = {
    "create": {"zh": "新建", "en": "Created"},
    "update": {"zh": "修改", "en": "Changed"},
    "delete": {"zh": "删除", "en": "Deleted"},
    "submit": {"zh": "审核", "en": "Submitted"},
    "cancel": {"zh": "反审核", "en": "Cancelled"},
    "approve": {"zh": "审批通过", "en": "Approved"},
    "reject": {"zh": "退回", "en": "Sent back"},
    "add_field": {"zh": "添加字段", "en": "Field added"},
}


def current_locale() -> str:
    """The request's locale ('zh' or 'en'); zh outside a request."""
    try:
        from flask import has_request_context
        from flask_babel import get_locale

        if has_request_context():
            locale = get_locale()
            if locale is not None and locale.language in LOCALES:
                return locale.language
    except Exception:  # pragma: no cover - babel not initialised (CLI)
        pass
    return DEFAULT_LOCALE


def t(key: str, locale: str | None = None, **params: Any) -> str:
    """Translate message `key` and fill in its parameters."""
    texts = MESSAGES[key]
    return texts[locale or current_locale()].format(**params)


def label(texts: dict[str, str] | None, fallback: str = "", locale: str | None = None) -> str:
    """Pick the text for the current locale from a {zh, en} mapping."""
    if not texts:
        return fallback
    loc = locale or current_locale()
    return texts.get(loc) or texts.get(DEFAULT_LOCALE) or texts.get("en") or fallback
