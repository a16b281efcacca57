"""The tests' ESC/POS reader: the same decoder the printer emulator uses (devices/escpos_text.py)."""

from devices.escpos_text import decode, describe, iter_ops, texts

__all__ = ["decode", "describe", "iter_ops", "texts"]
