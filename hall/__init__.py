"""hall: queue management for 医保 service halls (domain core, persistence, API, realtime)."""
