"""One subject per resident ID (unique, NULLs allowed many times); an emergency contact

The unique constraint cannot be added while two subjects share an id_number: the upgrade then
stops before changing anything and lists the duplicated (masked) IDs, so someone can decide
which record is the person's and correct the other one first.

Revision ID: 5e1c0a7b9d21
Revises: 1322ecf6e8eb
Create Date: 2026-12-02 20:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c0a7b9d21'
down_revision = '1322ecf6e8eb'
branch_labels = None
depends_on = None


def _refuse_duplicates():
    rows = op.get_bind().execute(sa.text(
        "SELECT id_number, COUNT(*) FROM subjects WHERE id_number IS NOT NULL "
        "GROUP BY id_number HAVING COUNT(*) > 1"
    )).all()
    if rows:
        listed = ", ".join(
            f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]} ({count} subjects)"
            for number, count in rows
        )
        raise RuntimeError(
            "Cannot make subjects.id_number unique: these resident IDs are enrolled more than "
            f"once: {listed}. Correct or clear the wrong records (UPDATE subjects SET "
            "id_number = NULL WHERE id = ...), then run `flask db upgrade` again."
        )


def upgrade():
    _refuse_duplicates()
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emergency_contact_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('emergency_contact_phone', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_subjects_id_number'), ['id_number'])


def downgrade():
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_subjects_id_number'), type_='unique')
        batch_op.drop_column('emergency_contact_phone')
        batch_op.drop_column('emergency_contact_name')
