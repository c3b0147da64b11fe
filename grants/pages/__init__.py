"""The home page, the start page after login and the legal pages."""
