"""Let a tool import the checkout's ``pennfudan_vit`` where it is not installed
(a torch-free deployment environment with only requirements/deploy.txt)."""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec('pennfudan_vit') is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'projects'))
