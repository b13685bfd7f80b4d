"""What the phone pages need beyond the shared APIs: count batches sent once (idempotent), stock lookup by
code, name or barcode per warehouse, and item labels with their barcodes (docs/phone.md)."""
