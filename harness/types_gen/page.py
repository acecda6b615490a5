"""docs/types.md: the generated consumer types of both languages on one page, kept current by
`b4a docs` (and reported stale by `b4a docs --check`) in a checkout, like the profile schema."""
from __future__ import annotations

from pathlib import Path

from harness.contract import Contract, load_contract
from harness.docs.render import NOTE
from harness.types_gen.generators import GeneratorFailed, GeneratorMissing, python, typescript
from harness.types_gen.schema import NOTIFICATIONS, PUSH_ROOT, ROOT, payload_name

PAGE = "types.md"


def page_text(contract: Contract | None = None) -> str:
    contract = contract or load_contract()
    example = next(f for f in contract.families if f.discriminator)
    first = example.variants[0]
    return f"""<!-- {NOTE} -->
# Consumer types

Types for apps that read Buddy4all notifications, for contract version **{contract.version}**,
generated from the schemas: TypeScript by
[json-schema-to-typescript](https://www.npmjs.com/package/json-schema-to-typescript), Python
(`TypedDict`s with `Literal` unions) by
[datamodel-code-generator](https://pypi.org/project/datamodel-code-generator/). Write them into
your app with `b4a types --lang typescript src/buddy4all.d.ts` or
`b4a types --lang python app/buddy4all_types.py`.

- `{NOTIFICATIONS}` is the union of every notification a WebSocket frame carries, a discriminated
  union on `message_type`, then `status` (`state` for game sessions): narrowing on
  `message_type === "{example.message_type}"` and `{example.discriminator} === "{first.name}"` leaves
  exactly one type. One type per variant, named after it (`{example.name}/{first.name}` is
  `{payload_name(first)}`), and one union per family.
- `{PUSH_ROOT}` is the union of the FCM `message.data` of every pushed variant (`...Push`): every
  value a string, `message_type` sent as `type`. `{ROOT}` is either.
- The contract allows keys beyond the listed ones. The TypeScript types say so (an index
  signature); a Python `TypedDict` cannot (mypy does not implement PEP 728 yet), so typed code
  sees only the contract's keys: read a backend's extra keys from the parsed JSON as
  `dict[str, object]`.
- Ranges and formats (ids >= 1, RFC 3339 dates) are not types: validate with `b4a validate` or the
  schemas when a value's range matters.

## TypeScript

```ts
{typescript(contract).rstrip()}
```

## Python

```python
{python(contract).rstrip()}
```
"""


def types_page(out: Path) -> dict[Path, str]:
    """{{out/types.md: text}} in a checkout (schemas/ beside `out`), else nothing: the page needs the
    generators, which an installed kit need not have. Raises ValueError naming a missing generator."""
    if not (out.parent / "schemas").is_dir():
        return {}
    try:
        return {out / PAGE: page_text()}
    except (GeneratorMissing, GeneratorFailed) as exc:
        raise ValueError(f"{out / PAGE}: {exc}") from None
