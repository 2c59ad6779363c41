"""Provinces of China by the first two digits of a GB/T 2260 administrative division code."""

from __future__ import annotations

#: code prefix -> (Chinese, English)
PROVINCES: dict[str, tuple[str, str]] = {
    "11": ("北京", "Beijing"),
    "12": ("天津", "Tianjin"),
    "13": ("河北", "Hebei"),
    "14": ("山西", "Shanxi"),
    "15": ("内蒙古", "Inner Mongolia"),
    "21": ("辽宁", "Liaoning"),
    "22": ("吉林", "Jilin"),
    "23": ("黑龙江", "Heilongjiang"),
    "31": ("上海", "Shanghai"),
    "32": ("江苏", "Jiangsu"),
    "33": ("浙江", "Zhejiang"),
    "34": ("安徽", "Anhui"),
    "35": ("福建", "Fujian"),
    "36": ("江西", "Jiangxi"),
    "37": ("山东", "Shandong"),
    "41": ("河南", "Henan"),
    "42": ("湖北", "Hubei"),
    "43": ("湖南", "Hunan"),
    "44": ("广东", "Guangdong"),
    "45": ("广西", "Guangxi"),
    "46": ("海南", "Hainan"),
    "50": ("重庆", "Chongqing"),
    "51": ("四川", "Sichuan"),
    "52": ("贵州", "Guizhou"),
    "53": ("云南", "Yunnan"),
    "54": ("西藏", "Tibet"),
    "61": ("陕西", "Shaanxi"),
    "62": ("甘肃", "Gansu"),
    "63": ("青海", "Qinghai"),
    "64": ("宁夏", "Ningxia"),
    "65": ("新疆", "Xinjiang"),
    "71": ("台湾", "Taiwan"),
    "81": ("香港", "Hong Kong"),
    "82": ("澳门", "Macao"),
}

#: a schematic tile map: (row, column) of each province on a 8 x 10 grid, roughly where it lies
TILES: dict[str, tuple[int, int]] = {
    "23": (0, 8), "22": (1, 8), "15": (1, 5), "21": (2, 8), "11": (2, 6), "12": (2, 7),
    "65": (2, 1), "62": (3, 3), "64": (3, 4), "14": (3, 5), "13": (3, 6), "37": (3, 7),
    "63": (4, 2), "61": (4, 4), "41": (4, 5), "32": (4, 6), "31": (4, 7), "54": (5, 1),
    "51": (5, 3), "50": (5, 4), "42": (5, 5), "34": (5, 6), "33": (5, 7), "53": (6, 3),
    "52": (6, 4), "43": (6, 5), "36": (6, 6), "35": (6, 7), "71": (6, 8), "45": (7, 4),
    "44": (7, 5), "81": (7, 6), "82": (7, 7), "46": (8, 4),
}  # fmt: skip


def province_of(region: str | None) -> str | None:
    """The two-digit province prefix of a region code (None when there is none)."""
    if not region or len(region) < 2 or not region[:2].isdigit():
        return None
    return region[:2]


def province_name(prefix: str | None, lang: str = "zh") -> str:
    """The province's name in `lang` (`zh` or `en`); the code itself when unknown."""
    if prefix is None:
        return "—"
    names = PROVINCES.get(prefix)
    if names is None:
        return prefix
    return names[0] if lang == "zh" else names[1]
