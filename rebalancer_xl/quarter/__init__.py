"""Closing the quarter: recording fills, checks between quarters, orders out, reminders."""
