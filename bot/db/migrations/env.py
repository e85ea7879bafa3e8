"""Alembic environment for the application database (run through ``bot.db.migrate``)."""

from alembic import context

from bot.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table="ticket_store_version")
with context.begin_transaction():
    context.run_migrations()
