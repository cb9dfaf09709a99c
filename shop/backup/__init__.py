"""Backups: the database and the media objects, written to one folder and restored from it."""
