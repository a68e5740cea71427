"""coder: scriptable, reproducible qualitative coding of expert interviews."""

__version__ = "0.1.0"
