"""Buyers' requests for quotes, split per cooperative."""
