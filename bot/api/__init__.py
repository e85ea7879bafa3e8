"""The department API: aiohttp app for department handlers, hotline agents and admins."""
