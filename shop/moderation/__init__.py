"""Moderation: the staff's single queue, and buyers' reports of products that open cases."""
