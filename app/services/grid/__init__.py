"""The grid's server side: pages of rows, batch saves with undo / redo, exports of a view."""
