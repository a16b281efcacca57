"""Pure framing for the serial devices at the windows: bytes in → messages out, messages → bytes, no I/O.

``hall_serial``: the project's own line protocol (docs/devices.md) for LED strips, rating pads and keypads.
``modbus_led``: generic LED-485 displays over Modbus-RTU, framed by pymodbus.
"""
