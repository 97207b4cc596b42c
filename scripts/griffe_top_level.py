"""A Griffe extension for the API reference (mkdocs.yml): `::: whyword` documents the names in
`whyword.__all__` as `whyword.<name>`.

Five of them are functions named like the module that defines them (`whyword.explain` is the
module whyword/explain.py and the function it exports). Python's import leaves the function in
the package; Griffe's static reading keeps the module (its known limitation), so the reference
would miss them. After loading the package, this puts each such function where the import puts
it. Every alias is resolved first, so `whyword.with_stage` (from the module `whyword.explain`)
still finds its target.
"""

from __future__ import annotations

from typing import Any

import griffe


class TopLevelNames(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "whyword":
            return
        for member in pkg.members.values():
            if member.is_alias:
                member.resolve_target()  # before a module below is replaced by its function
        for name in sorted(pkg.exports or ()):
            module = pkg.members.get(name)
            if module is None or not module.is_module:
                continue
            function = module.members.get(name)
            if function is None or function.is_alias or function.is_module:
                raise ValueError(f"whyword.{name} is a module that defines no {name} to export")
            pkg.set_member(name, function)
