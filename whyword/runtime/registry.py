"""The registry type of everything a user can add by name (methods, objectives): a dict whose
`add` refuses a name in use unless asked to replace it, and whose `find` names the choices
when a name is unknown — one sentence each, the same for every registry."""

from __future__ import annotations

from typing import Generic, TypeVar

from whyword.errors import InputError, shown

T = TypeVar("T")


class Registry(dict[str, T], Generic[T]):
    """Name → item, in the order added (the order the page and the command line list them)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind  # "method", "objective": how the sentences name an item

    def add(self, name: str, item: T, *, overwrite: bool = False) -> T:
        if name in self and not overwrite:
            article = "An" if self.kind[:1] in "aeiou" else "A"
            raise InputError(
                f"{article} {self.kind} named '{name}' exists: pass overwrite=True to replace "
                "it, or pick another name."
            )
        self[name] = item
        return item

    def find(self, name: str) -> T:
        try:
            return self[name]
        except KeyError:
            known = ", ".join(self)
            raise InputError(f"Unknown {self.kind} {shown(name)}. Choose from: {known}.") from None
