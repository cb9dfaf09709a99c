"""Figures for the alliance: daily counters (views, scans, contact clicks) and the dashboard."""
