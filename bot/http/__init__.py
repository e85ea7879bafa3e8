"""What the department API (``bot/api``) and the web pages (``bot/web``) share: the
application's keys, JSON answers and errors, the middleware that translates errors and
audits every call, bearer tokens, ticket views and the staff hand-off operations. The two
apps import this package, never each other."""
