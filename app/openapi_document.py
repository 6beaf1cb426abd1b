"""Writes or checks the committed openapi.yaml: `python -m app.openapi_document write|check PATH`."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from app.main import create_app
from app.settings import Settings


def render() -> str:
    app = create_app(Settings(database_url="sqlite+aiosqlite://", env="test"))
    return yaml.safe_dump(app.openapi(), sort_keys=False, allow_unicode=True, width=110)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"write", "check"}:
        print("usage: python -m app.openapi_document write|check PATH", file=sys.stderr)
        return 2
    path, current = Path(argv[1]), render()
    if argv[0] == "write":
        path.write_text(current, encoding="utf-8")
        return 0
    if not path.exists() or path.read_text(encoding="utf-8") != current:
        print(f"{path} is out of date: run `make openapi` and commit it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
