"""The tests' ESC/POS reader (the same one the printer emulator uses to show receipts)."""

from devices.escpos_decode import decode, describe, texts

__all__ = ["decode", "describe", "texts"]
