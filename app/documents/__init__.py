"""Per-document behaviour found by name (sales_delivery.py -> SalesDelivery): stock effects, checks, approvals."""
