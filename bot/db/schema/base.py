"""The one ``MetaData`` every table of the application database belongs to."""

from sqlalchemy import MetaData

metadata = MetaData()
