"""Stash itself (the user's media server): GraphQL documents and the UI plugin's files."""
