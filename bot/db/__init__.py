"""The application database: one SQLite file or PostgreSQL database for tickets, the
knowledge base's log, web users and the statistics. ``engine`` builds the engine,
``schema`` declares the tables (one module per concern), ``migrate`` brings a database up
to date with the Alembic migrations in ``migrations/``. Every other package that stores
something depends on this one, never the other way round."""
