"""Flask adapters: login, pages, per-request helpers (everything here may import Flask)."""
