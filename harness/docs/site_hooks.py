"""mkdocs hooks (mkdocs.yml `hooks:`): the docs site is built from docs/ as it is, offline.

- Mermaid is served from the site itself: node_modules/mermaid/dist/mermaid.min.js (from
  package-lock.json) is added as assets/javascripts/mermaid.min.js, which mkdocs.yml loads; with
  `mermaid` defined, mkdocs-material does not fetch its own copy from a CDN.
- The pages link the schemas as `../schemas/...` (right in a checkout, where docs/ sits beside
  schemas/); the site carries the schema files under schemas/, with a listing page, and the
  links are rewritten to point there.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

MERMAID = Path("node_modules/mermaid/dist/mermaid.min.js")
MERMAID_URI = "assets/javascripts/mermaid.min.js"
SCHEMAS_URI = "schemas"


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_config(config: Any) -> Any:
    if not (_root(config) / MERMAID).is_file():
        raise PluginError(f"{MERMAID} is missing: run `npm ci` (./dev docs does), so the diagrams render without a network")
    return config


def _schema_listing(schemas: list[Path]) -> str:
    rows = "\n".join(f"| [{path.name}]({path.name}) | {_what(path)} |" for path in schemas)
    return ("# Schemas\n\nThe contract as data, JSON Schema 2020-12: what the pages of this site are generated from.\n\n"
            f"| file | what |\n|---|---|\n{rows}\n")


def _what(path: Path) -> str:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return ""
    text = str(data.get("title") or data.get("description") or "") if isinstance(data, dict) else ""
    return text.replace("|", "\\|").replace("\n", " ")


def on_files(files: Files, config: Any) -> Files:
    root = _root(config)
    files.append(File.generated(config, MERMAID_URI, abs_src_path=str(root / MERMAID)))
    schemas = sorted((root / "schemas").glob("*.json"))
    for schema in schemas:
        files.append(File.generated(config, f"{SCHEMAS_URI}/{schema.name}", abs_src_path=str(schema)))
    files.append(File.generated(config, f"{SCHEMAS_URI}/index.md", content=_schema_listing(schemas)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri.startswith(f"{SCHEMAS_URI}/"):
        return markdown
    return markdown.replace("](../schemas/)", f"]({SCHEMAS_URI}/index.md)").replace("](../schemas/", f"]({SCHEMAS_URI}/")
