"""battrace: the open platform for China's power-battery digital ID (动力电池数字身份证)."""

__version__ = "0.1.0"
