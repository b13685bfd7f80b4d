"""Working together on a record: comments with @mentions, attachments, owners and followers, the activity
timeline, and the complaint (客诉) flow. Everything here is keyed by (model, record id) and readable only by
those who may read the record (`records.readable`); notifications go through app.schedules.notify."""
