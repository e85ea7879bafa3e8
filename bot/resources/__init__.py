"""Data files shipped with the package (taxonomy, regions, jieba user dictionary)."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
TAXONOMY_FILE = RESOURCES / "taxonomy.yml"
REGIONS_FILE = RESOURCES / "regions.yml"
JIEBA_DIR = RESOURCES / "jieba"
USER_DICT_FILE = JIEBA_DIR / "userdict.txt"
