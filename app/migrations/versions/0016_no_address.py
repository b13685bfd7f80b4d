"""Users without an e-mail address: the made-up `<user>@jxc.local` becomes the marked non-address
`<user>@no-email.invalid` (app.meta.types.no_address), which no schedule mails and the mailer refuses.

Only addresses JXC made up are changed (the user's own name at jxc.local); ab_user.email stays unique and
not null (FAB's table).

Revision ID: 0016_no_address
Revises: 0015_count_batch
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_no_address"
down_revision = "0015_count_batch"
branch_labels = None
depends_on = None

MADE_UP = "@jxc.local"
NO_ADDRESS = "@no-email.invalid"  # app.meta.types.NO_ADDRESS_DOMAIN when this was written


def _rewrite(old: str, new: str) -> None:
    users = sa.table("ab_user", sa.column("username", sa.String), sa.column("email", sa.String))
    op.execute(users.update().where(users.c.email == users.c.username + old).values(email=users.c.username + new))


def upgrade() -> None:
    _rewrite(MADE_UP, NO_ADDRESS)


def downgrade() -> None:
    _rewrite(NO_ADDRESS, MADE_UP)
