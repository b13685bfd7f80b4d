"""What a partner's account is made of (应收 / 应付): per side, the document models it sums, with their figure,
sign and the payments' direction. Data about the models, read by the accounts (app/services/money/receivables.py)
and by the metadata check that no role reads an account through a row scope that leaves part of it out."""

from __future__ import annotations

from app.meta.spec import FieldSpec, ModelSpec, RoleSpec

OWED = "total_with_tax"  # the document total a partner owes or is owed (价税合计)
# a document's total, the first of these it has: 价税合计, else 金额合计 (a transfer, a stocktake), else 金额 (payment)
TOTALS = (OWED, "total_amount", "amount")
RECEIVABLE, PAYABLE = "receivable", "payable"
# per side of an account: (document model, the figure it adds, its sign, the payments' direction)
SOURCES: dict[str, tuple[tuple[str, str, int, str | None], ...]] = {
    RECEIVABLE: (
        ("sales_delivery", OWED, 1, None),
        ("sales_return", OWED, -1, None),
        ("payment", "amount", -1, "receipt"),
    ),
    PAYABLE: (
        ("purchase_receipt", OWED, 1, None),
        ("purchase_return", OWED, -1, None),
        ("payment", "amount", -1, "payment"),
    ),
}
SIDE_FIGURES = {RECEIVABLE: "sale", PAYABLE: "purchase"}  # the kind of figure each side's documents owe


def document_total(model: ModelSpec) -> FieldSpec | None:
    """The field holding a document's total (what its print states as owed and its list shows), or None."""
    return next((spec for name in TOTALS if (spec := model.field(name)) is not None), None)


def account_scope_problems(roles: dict[str, RoleSpec]) -> list[str]:
    """Row scopes that would make a partner's account partial: a role that may read a side must see, of every
    model the side sums, every row of a partner it sees (no scope, or one that lets in `partner: visible`).
    A salesperson who saw their customers' payments but only the deliveries they made read a customer owing
    400.00 as -100.00 (another's delivery left out, its payment counted)."""
    problems = []
    for role in roles.values():
        for side, sources in SOURCES.items():
            models = {model for model, _, _, _ in sources}
            if SIDE_FIGURES[side] in role.hidden_figures or not all("read" in role.grants(m) for m in models):
                continue
            for model in sorted(models):
                rule = role.row_scope.get(model)
                if rule and rule.get("partner") != "visible":
                    problems.append(
                        f"role '{role.key}': row_scope of {model} leaves out rows of partners whose {side} account"
                        f" the role reads; add `partner: visible` to it"
                    )
    return problems
