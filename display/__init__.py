"""Hall display, counter displays, and offline Mandarin voice for calls."""
