"""Custom Rasa NLU components of govbot (referenced by module path in ``config.yml``)."""
