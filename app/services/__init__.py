"""The one service layer every channel uses: access, queries, writes, audit."""
